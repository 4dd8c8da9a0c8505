/** Whether a process id names a live process, asked of the kernel with signal 0. */

/** True when `pid` is alive, including one we may not signal (EPERM: it exists, owned by another user). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
