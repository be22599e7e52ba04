/** Streams a ready text word by word, yielding to the event loop between words. */
export async function* streamWords(text: string, signal: AbortSignal): AsyncIterable<string> {
  for (const word of text.split(/(?<=\s)/)) {
    signal.throwIfAborted();
    yield word;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
