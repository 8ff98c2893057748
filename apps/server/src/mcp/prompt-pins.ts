/**
 * Prompt pinning on `/mcp/servers/{name}` (docs/security.md, issue 13 item 3): prompt definitions get the same treatment as
 * tools. A prompt's hash is SHA-256 over the canonical JSON of its name, description and arguments; the first
 * `prompts/list` seen for a server is its baseline; later, a prompt whose hash differs from its pin (`changed`) or
 * that the baseline did not have (`pending`) is hidden from `prompts/list` and refused in `prompts/get` until a
 * person approves it (`POST /api/v1/servers/{name}/prompts/approve`). Pins live in the approvals store under the key
 * `prompts:NAME` (a `:` never appears in a server name, so it cannot collide with a server's tool pins).
 */
import { createHash } from 'node:crypto';
import type { ApprovalsStore } from '@mcpproxy/actor';
import { canonicalJson } from '@mcpproxy/contracts';
import { ManagementError } from '@mcpproxy/management';

/** One prompt of a server's last `prompts/list` with its pinning state. */
export interface PromptInfo {
  name: string;
  description?: string | undefined;
  arguments?: unknown;
  hash: string;
  approval: 'approved' | 'pending' | 'changed';
  /** For `changed` prompts: the approved hash. */
  approved_hash?: string | undefined;
}

/** The hash of a prompt definition: name, description and arguments (title and `_meta` excluded, as for tools). */
export function promptHash(prompt: { name: string; description?: unknown; arguments?: unknown }): string {
  const text = canonicalJson({
    name: prompt.name,
    description: prompt.description ?? null,
    arguments: prompt.arguments ?? null,
  });
  return createHash('sha256').update(text).digest('hex');
}

const keyOf = (server: string) => `prompts:${server}`;

interface Seen {
  prompt: { name: string; description?: string | undefined; arguments?: unknown };
  hash: string;
}

/** The prompt pins of every server, over a shared approvals store. */
export class PromptPins {
  /** The last `prompts/list` of each server, as seen through any session. Bounded by what upstreams list. */
  readonly #seen = new Map<string, Map<string, Seen>>();
  readonly #listeners = new Set<(server: string) => void>();

  constructor(private readonly store: ApprovalsStore) {}

  /**
   * Takes a `prompts/list` result: the first one of a server becomes its baseline; answers the prompts the client
   * may see (approved and unchanged). Malformed entries (no string name) are dropped.
   */
  filter(server: string, prompts: readonly unknown[]): unknown[] {
    const seen = new Map<string, Seen>();
    for (const p of prompts) {
      const prompt = p as { name?: unknown; description?: unknown; arguments?: unknown };
      if (typeof prompt.name !== 'string') continue;
      const def = {
        name: prompt.name,
        description: typeof prompt.description === 'string' ? prompt.description : undefined,
        arguments: prompt.arguments,
      };
      seen.set(prompt.name, { prompt: def, hash: promptHash(def) });
    }
    this.#seen.set(server, seen);
    let pins = this.store.get(keyOf(server));
    if (pins === undefined) {
      pins = new Map([...seen].map(([name, s]) => [name, s.hash]));
      this.store.set(keyOf(server), pins);
    }
    const approved = pins;
    return prompts.filter((p) => {
      const name = (p as { name?: unknown }).name;
      return typeof name === 'string' && approved.get(name) === seen.get(name)?.hash;
    });
  }

  /**
   * Why `prompts/get` of `name` is refused (`TOOL_BLOCKED: …`), or `undefined` when it may go through: refused when
   * the server has a baseline and the prompt is not in it, or its last listed definition differs from its pin.
   */
  refusal(server: string, name: string): string | undefined {
    const pins = this.store.get(keyOf(server));
    if (pins === undefined) return undefined;
    const pinned = pins.get(name);
    const seen = this.#seen.get(server)?.get(name);
    if (pinned === undefined) {
      return `TOOL_BLOCKED: prompt "${name}" of server "${server}" is pending (new, not approved yet) and must be approved by a person before it can be used`;
    }
    if (seen && seen.hash !== pinned) {
      return `TOOL_BLOCKED: prompt "${name}" of server "${server}" changed since it was approved and must be approved by a person before it can be used`;
    }
    return undefined;
  }

  /** The prompts of the server's last listing with their pinning state (empty before any `prompts/list`). */
  list(server: string): PromptInfo[] {
    const pins = this.store.get(keyOf(server));
    return [...(this.#seen.get(server)?.values() ?? [])].map(({ prompt, hash }) => {
      const pinned = pins?.get(prompt.name);
      const info: PromptInfo = {
        name: prompt.name,
        hash,
        approval: pinned === undefined ? 'pending' : pinned === hash ? 'approved' : 'changed',
      };
      if (prompt.description !== undefined) info.description = prompt.description;
      if (prompt.arguments !== undefined) info.arguments = prompt.arguments;
      if (pinned !== undefined && pinned !== hash) info.approved_hash = pinned;
      return info;
    });
  }

  /**
   * Approves the last listed definitions of `names` (every pending and changed prompt when omitted); answers the
   * prompts whose state changed. `NOT_FOUND` (approving nothing) for a name the last listing does not have.
   */
  approve(server: string, names?: readonly string[]): string[] {
    const seen = this.#seen.get(server) ?? new Map<string, Seen>();
    const missing = (names ?? []).filter((n) => !seen.has(n));
    if (missing.length > 0) {
      throw new ManagementError('NOT_FOUND', `server "${server}" did not list prompt(s): ${missing.join(', ')}`);
    }
    const pins = new Map(this.store.get(keyOf(server)) ?? []);
    const changed: string[] = [];
    for (const [name, s] of seen) {
      if (names && !names.includes(name)) continue;
      if (pins.get(name) === s.hash) continue;
      pins.set(name, s.hash);
      changed.push(name);
    }
    if (changed.length > 0) {
      this.store.set(keyOf(server), pins);
      for (const listener of this.#listeners) {
        try {
          listener(server);
        } catch {
          // One listener's failure never stops the others (sessions are told independently).
        }
      }
    }
    return changed;
  }

  /** Hears approvals that change what a server's `prompts/list` shows; answers the unsubscribe. */
  onApproval(listener: (server: string) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Forgets a server's listing (its pins stay). */
  forget(server: string): void {
    this.#seen.delete(server);
  }
}
