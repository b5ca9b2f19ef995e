/**
 * Reads a `fetch` response body as UTF-8 text (like `response.text()`), up to `maxBytes`: a longer body
 * (announced by `Content-Length` or found while reading) is cancelled and gives `undefined`, so a huge answer
 * is never held in memory (a body past V8's largest string, about 512 MB, could not even be decoded). The
 * caller turns `undefined` into a failed call; nothing here throws for the size.
 *
 * @example
 *   const text = await readLimitedBody(response, 1_048_576); // undefined when longer
 *   if (text === undefined) return failed(`answer over ${maxBytes} bytes`);
 */
export async function readLimitedBody(response: Response, maxBytes: number): Promise<string | undefined> {
  if (Number(response.headers.get('content-length') ?? 0) > maxBytes) {
    await response.body?.cancel();
    return undefined;
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
