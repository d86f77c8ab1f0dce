/**
 * Submission windows are whole minutes of the clock. A test that needs all its submissions in one
 * window starts in the first 40 s of a minute, so that even a slow machine finishes before the
 * window turns (the database runs on this machine, so its clock is this one).
 */
export async function untilQuietPartOfMinute(): Promise<void> {
  while (Date.now() % 60_000 > 40_000) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
