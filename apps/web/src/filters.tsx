import type { Signal } from '@preact/signals';

/**
 * A labelled choice bound to a signal: the first option (value `''`) is `any` (e.g. "All servers"), then one per
 * value, shown as `text(value)`. The filter bars of Events and Activity and the servers' bulk scope are made of these.
 */
export function Choice({
  label,
  id,
  value,
  any,
  options,
  text = (o) => o,
}: {
  label: string;
  id: string;
  value: Signal<string>;
  any: string;
  options: readonly string[];
  text?: (option: string) => string;
}) {
  return (
    <label class="field-inline">
      {label}
      <select id={id} value={value.value} onChange={(e) => (value.value = e.currentTarget.value)}>
        <option value="">{any}</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {text(o)}
          </option>
        ))}
      </select>
    </label>
  );
}

/** A labelled text filter bound to a signal, applied when the person leaves the field or presses Enter. */
export function TextFilter({
  label,
  id,
  value,
  type,
  placeholder,
}: {
  label: string;
  id: string;
  value: Signal<string>;
  type?: 'search';
  placeholder?: string;
}) {
  return (
    <label class="field-inline">
      {label}
      <input
        id={id}
        type={type}
        value={value.value}
        placeholder={placeholder}
        onChange={(e) => (value.value = e.currentTarget.value)}
      />
    </label>
  );
}
