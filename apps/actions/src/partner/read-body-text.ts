/**
 * Reads a response body as UTF-8 text (like `response.text()`), up to `maxBytes`: a longer body (announced
 * by `Content-Length` or found while reading) is cancelled and gives `undefined`, so a huge answer is never
 * held in memory. (trigger-poller has the same reader for trigger answers; apps do not import each other.)
 *
 * @example
 *   const text = await readBodyText(response, 1_048_576); // undefined when longer
 */
export async function readBodyText(response: Response, maxBytes: number): Promise<string | undefined> {
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
