/** One input of a form built from a tool's JSON Schema (`inputSchema.properties`). */
export interface FormField {
  name: string;
  /** How it is edited: JSON for objects, arrays and anything the simple inputs cannot express. */
  kind: 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'json';
  required: boolean;
  description: string;
  options: string[];
  defaultValue: string;
}

type Schema = Record<string, unknown>;

/** The fields of an input schema, required ones first, each with the input that fits its type. */
export function fieldsOf(inputSchema: Schema | undefined): FormField[] {
  const properties = (inputSchema?.properties ?? {}) as Record<string, Schema>;
  const required = new Set(Array.isArray(inputSchema?.required) ? (inputSchema.required as string[]) : []);
  const fields = Object.entries(properties).map(([name, prop]): FormField => {
    const type = Array.isArray(prop.type) ? (prop.type as string[]).find((t) => t !== 'null') : prop.type;
    let kind: FormField['kind'] = 'json';
    if (Array.isArray(prop.enum) && prop.enum.every((v) => typeof v === 'string')) kind = 'enum';
    else if (type === 'string' || type === 'number' || type === 'integer' || type === 'boolean') kind = type;
    const def = prop.default;
    return {
      name,
      kind,
      required: required.has(name),
      description: typeof prop.description === 'string' ? prop.description : '',
      options: kind === 'enum' ? (prop.enum as string[]) : [],
      defaultValue: def === undefined ? '' : kind === 'json' || typeof def !== 'string' ? JSON.stringify(def) : def,
    };
  });
  return fields.sort((a, b) => Number(b.required) - Number(a.required));
}

/** A field's value that cannot become an argument, with the reason shown on the field. */
export interface FieldError {
  name: string;
  message: string;
}

/**
 * Arguments from the form's raw values: empty optional fields are left out, numbers and JSON are parsed.
 * Returns the arguments, or the errors of the fields that do not parse.
 */
export function argumentsOf(
  fields: readonly FormField[],
  values: Readonly<Record<string, string | boolean>>,
): { args: Record<string, unknown>; errors: FieldError[] } {
  const args: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  for (const f of fields) {
    const raw = values[f.name];
    if (f.kind === 'boolean') {
      if (raw !== undefined) args[f.name] = raw === true || raw === 'true';
      continue;
    }
    const text = typeof raw === 'string' ? raw : '';
    if (text.trim() === '') {
      if (f.required) errors.push({ name: f.name, message: 'required' });
      continue;
    }
    if (f.kind === 'number' || f.kind === 'integer') {
      const n = Number(text);
      if (!Number.isFinite(n) || (f.kind === 'integer' && !Number.isInteger(n))) {
        errors.push({ name: f.name, message: `not ${f.kind === 'integer' ? 'an integer' : 'a number'}` });
      } else args[f.name] = n;
    } else if (f.kind === 'json') {
      try {
        args[f.name] = JSON.parse(text);
      } catch {
        errors.push({ name: f.name, message: 'not valid JSON' });
      }
    } else args[f.name] = text;
  }
  return { args, errors };
}
