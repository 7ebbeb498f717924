/**
 * A periodic task on an injected clock: re-armed after each run, and an exception in one
 * run is reported without stopping the schedule.
 *
 * Layer: core (clock injected).
 * @module
 */
import type { Clock, Timer } from "../runtime/types.ts";

/**
 * Runs `fn` every `ms` until the returned timer is cancelled.
 * @param onError told of an exception thrown by one run (the schedule goes on)
 * @returns a timer that stops the schedule
 */
export function every(
  clock: Clock,
  ms: number,
  fn: () => void,
  onError: (e: unknown) => void,
): Timer {
  let current: Timer | undefined;
  let stopped = false;
  const arm = () => {
    current = clock.schedule(ms, () => {
      if (stopped) return;
      try {
        fn();
      } catch (e) {
        onError(e);
      }
      if (!stopped) arm();
    });
  };
  arm();
  return {
    cancel() {
      stopped = true;
      current?.cancel();
    },
  };
}
