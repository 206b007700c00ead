// Hooks for asynchronous work that belongs to a component: it is cancelled (aborted) by the
// effect's clean-up when the component unmounts or its inputs change, so a late answer never
// touches a view the user has left.
import { useEffect, useRef, useState, type Inputs } from 'preact/hooks';

export type Resource<T> =
  | { status: 'loading' }
  | { status: 'ready'; value: T }
  | { status: 'error'; error: unknown };

export interface ResourceHandle<T> {
  state: Resource<T>;
  /** Load again; the current value stays on screen until the new one arrives. */
  reload: () => void;
  /** Change the loaded value locally (e.g. one row the server just answered with). */
  update: (change: (value: T) => T) => void;
}

/** True for the rejection of an aborted fetch. */
export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

/** Loads `load` when mounted and whenever `inputs` change; aborts it on clean-up. */
export function useResource<T>(load: (signal: AbortSignal) => Promise<T>, inputs: Inputs): ResourceHandle<T> {
  const [state, setState] = useState<Resource<T>>({ status: 'loading' });
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    load(controller.signal).then(
      (value) => {
        if (!controller.signal.aborted) setState({ status: 'ready', value });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState({ status: 'error', error });
      },
    );
    return () => controller.abort();
  }, [...inputs, version]);
  return {
    state,
    reload: () => setVersion((v) => v + 1),
    update: (change) => setState((s) => (s.status === 'ready' ? { status: 'ready', value: change(s.value) } : s)),
  };
}

/** An AbortSignal that fires when the component unmounts: for requests started by a click. */
export function useUnmountSignal(): AbortSignal {
  const controller = useRef<AbortController | null>(null);
  if (controller.current === null) controller.current = new AbortController();
  useEffect(() => () => controller.current?.abort(), []);
  return controller.current.signal;
}
