/** Timer functions behind an interface, so code that waits can be tested with a fake clock. */

/** Timer functions, injectable so tests can drive time. */
export interface Clock {
  setTimeout(fn: () => void, ms: number): number;
  clearTimeout(id: number): void;
}

/** The real timers, with plain number handles whatever the runtime's timer type is. */
export function systemClock(): Clock {
  const handles = new Map<number, ReturnType<typeof setTimeout>>();
  let next = 1;
  return {
    setTimeout(fn, ms) {
      const id = next++;
      handles.set(
        id,
        setTimeout(() => {
          handles.delete(id);
          fn();
        }, ms),
      );
      return id;
    },
    clearTimeout(id) {
      const handle = handles.get(id);
      if (handle === undefined) return;
      clearTimeout(handle);
      handles.delete(id);
    },
  };
}
