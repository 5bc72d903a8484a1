// @stage/inference: model calls through the host, which holds the provider's key and
// meters every call against this app's daily quota. A refusal throws a PlatformError
// whose `status` is the host's (400 bad call or model, 429 quota, 502/503/504 provider).
import { call, callStream } from "./stage-platform.js";

/**
 * The text deltas of a streamed chat, in order. Once iterated to the end, `content`,
 * `model` and `usage` hold what `chat` without `stream` would have returned.
 */
class ChatStream {
  #lines;
  constructor(lines) {
    this.#lines = lines;
    this.content = null;
    this.model = null;
    this.usage = null;
  }

  async *[Symbol.asyncIterator]() {
    const lines = this.#lines;
    if (lines === null) throw new Error("inference.chat: a stream can be read once");
    this.#lines = null;
    for await (const line of lines) {
      if (line.delta !== undefined) {
        yield line.delta;
      } else if (line.done) {
        this.content = line.content;
        this.model = line.model;
        this.usage = line.usage;
        return;
      }
    }
    throw new Error("inference.chat: the stream ended before the answer did");
  }
}

export const inference = {
  /**
   * {model, messages, temperature?, max_tokens?, response_format?} → {content, model, usage}.
   * With `stream: true`, an async iterable of text deltas (a ChatStream).
   */
  async chat(request) {
    if (request?.stream === true) {
      return new ChatStream(await callStream("inference", "chat", request));
    }
    return await call("inference", "chat", request);
  },

  /** {model, input: string | string[]} → {embeddings: number[][], model, usage}. */
  embed(request) {
    return call("inference", "embed", request);
  },

  /** {model, prompt, size?} → {url | b64, model, usage: {images}}; the image is kept
   * under this app's folder in the host's store. */
  image(request) {
    return call("inference", "image", request);
  },

  /** {since?: "YYYY-MM-DD"} → this app's calls and tokens per model since that day. */
  usage(request = {}) {
    return call("inference", "usage", request);
  },
};

export default inference;
