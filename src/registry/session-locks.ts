import { OciError } from '../oci/errors.ts';

/**
 * One request at a time per upload session: a session's chunks must be
 * appended in order, and the spec has no concurrent chunks. A second request
 * for a busy session is refused at once (416, so the client asks where the
 * upload stands and resumes) rather than queued: a queue would hold one
 * request body's buffers per waiting request.
 */
export class SessionLocks {
  readonly #busy = new Set<string>();

  async run<T>(id: string, work: () => Promise<T>): Promise<T> {
    if (this.#busy.has(id)) throw new OciError('RANGE_INVALID', 'another request is writing to this upload: ask for its status and resume from there');
    this.#busy.add(id);
    try {
      return await work();
    } finally {
      this.#busy.delete(id);
    }
  }

  isBusy(id: string): boolean {
    return this.#busy.has(id);
  }
}
