/** Stops a subscription; safe to call twice. */
export type Unsubscribe = () => void;

/** A value that changes over time: read it now, or be told of each change. */
export interface Subscribable<T> {
  /** The current value. */
  get(): T;
  /**
   * Calls `listener` with each new value (not with the current one: read {@link get} for that). A throwing listener
   * is reported to the owner's `onListenerError` and never stops delivery to the others.
   */
  subscribe(listener: (value: T) => void): Unsubscribe;
}

/** A {@link Subscribable} its owner can set. */
export interface WritableValue<T> extends Subscribable<T> {
  /** Sets the value; listeners run only when it is a different reference (`Object.is`). */
  set(value: T): void;
  /** Drops every listener. */
  clear(): void;
}

/** Creates a value with isolated listeners. */
export function writable<T>(initial: T, onListenerError: (error: unknown) => void = () => {}): WritableValue<T> {
  let current = initial;
  const listeners = new Set<(value: T) => void>();
  return {
    get: () => current,
    subscribe(listener) {
      // A wrapper per subscription, so the same function subscribed twice is two subscriptions.
      const entry = (value: T) => listener(value);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    set(value) {
      if (Object.is(value, current)) return;
      current = value;
      for (const listener of [...listeners]) {
        try {
          listener(value);
        } catch (error) {
          onListenerError(error);
        }
      }
    },
    clear: () => listeners.clear(),
  };
}
