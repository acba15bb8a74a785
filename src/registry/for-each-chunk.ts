import type { Readable } from 'node:stream';

/** Bytes of a request body: Node's IncomingMessage, or any async iterable of chunks (tests). */
export type ByteSource = AsyncIterable<Uint8Array> | Readable;

function isReadable(source: ByteSource): source is Readable {
  return typeof (source as Readable).on === 'function' && typeof (source as Readable).pause === 'function';
}

/**
 * Calls `onChunk` for every chunk, in order, waiting for its promise before
 * taking more (backpressure). A Readable is consumed in flowing mode, chunk by
 * chunk as the socket delivers them: `for await` would make it concatenate
 * whatever is buffered into a new Buffer on every read, one more copy of every
 * byte of a blob.
 */
export function forEachChunk(source: ByteSource, onChunk: (chunk: Uint8Array) => Promise<void> | void): Promise<void> {
  if (!isReadable(source)) {
    return (async () => {
      for await (const chunk of source) await onChunk(chunk);
    })();
  }
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    // The one chunk still being written: the source is paused while it is, so there is never more than one.
    let outstanding: Promise<void> | undefined;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      cleanup();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      let pending: Promise<void> | void;
      try {
        pending = onChunk(chunk);
      } catch (error) {
        fail(error);
        return;
      }
      if (pending === undefined) return;
      source.pause();
      outstanding = pending;
      pending.then(() => {
        outstanding = undefined;
        if (!failed) source.resume();
      }, fail);
    };
    const onEnd = () => {
      const finish = () => {
        if (failed) return;
        cleanup();
        resolve();
      };
      if (outstanding === undefined) finish();
      else outstanding.then(finish, fail);
    };
    const onClose = () => {
      // 'close' without 'end': the client went away mid-body.
      if (!source.readableEnded) fail(Object.assign(new Error('request body ended early'), { code: 'ECONNRESET' }));
    };
    const cleanup = () => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', fail);
      source.off('close', onClose);
    };
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', fail);
    source.on('close', onClose);
  });
}
