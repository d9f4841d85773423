/** A typed publish/subscribe channel. */
export interface EventBus<E extends { type: string }> {
  /** Subscribes a listener; call the returned function to unsubscribe. */
  on(listener: (event: E) => void): () => void;
  /** Delivers the event to every current listener, in subscription order. */
  emit(event: E): void;
}

/** Options for {@link createEventBus}. */
export interface EventBusOptions<E> {
  /** Told about a listener that threw (otherwise the error is dropped); emit carries on either way. */
  onListenerError?: (error: unknown, event: E) => void;
}

/** Creates an event bus whose throwing listeners never break emit or stop the other listeners. */
export function createEventBus<E extends { type: string }>(options: EventBusOptions<E> = {}): EventBus<E> {
  const { onListenerError } = options;
  // Copy on write: emit walks a snapshot without copying, and (un)subscribing during emit is safe.
  let listeners: readonly ((event: E) => void)[] = [];
  return {
    on(listener) {
      listeners = [...listeners, listener];
      let subscribed = true;
      return () => {
        if (!subscribed) return;
        subscribed = false;
        const index = listeners.indexOf(listener);
        if (index >= 0) listeners = listeners.toSpliced(index, 1);
      };
    },
    emit(event) {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          onListenerError?.(error, event);
        }
      }
    },
  };
}
