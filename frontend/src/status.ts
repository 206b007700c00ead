// The page's polite live region: one message at a time, read out by screen readers.
import { signal } from '@preact/signals';

/** The text of the live region (rendered by the shell as `#status`). */
export const statusMessage = signal('');

let pending = 0;

/** Announce a message in the global polite live region. */
export function announce(message: string): void {
  window.clearTimeout(pending);
  statusMessage.value = '';
  // Let assistive technology notice the change even when the text repeats.
  pending = window.setTimeout(() => {
    statusMessage.value = message;
  }, 50);
}
