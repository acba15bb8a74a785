/** Reads a request body into memory, refusing (with the error `tooLarge` makes) past `limit` bytes. */
export async function readBody(source: AsyncIterable<Uint8Array>, limit: number, tooLarge: (size: number) => Error): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of source) {
    size += chunk.byteLength;
    if (size > limit) throw tooLarge(size);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
