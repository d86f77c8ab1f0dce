import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** FIN set, opcode 1 (text): a whole text message in one frame (RFC 6455, 5.2). */
const FIN_TEXT = 0x81;

/** The parts of a `ws` socket this writer relies on; `ws` keeps them private, hence checked at runtime. */
interface WsInternals {
  _socket?: Socket;
  _sender?: { _state?: unknown; _queue?: unknown[] };
}

/** Bytes of the frame header for a server-sent (unmasked) payload of `length` bytes. */
function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

function writeHeader(frame: Buffer, length: number): void {
  frame[0] = FIN_TEXT;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt16BE(0, 2);
    frame.writeUIntBE(length, 4, 6);
  }
}

/**
 * Sends one subscription's messages, `prefix + payload + suffix`, where the payload is already
 * UTF-8 encoded and shared by many subscribers: the bytes are framed here into one buffer and
 * written to the TCP socket under the WebSocket, which is what `ws.send` writes for a server's
 * uncompressed text message, without its per-message work (an options object, a header buffer,
 * corking, a two-buffer `writev`, and encoding the same text again for every socket). Sending to
 * thousands of sockets per event, that work was about a sixth of the API's CPU beyond a bare `ws`
 * server's. Whenever `ws` itself may have something to say about the message (compression was
 * negotiated, or its sender is holding frames back), the message goes through `ws.send` instead,
 * so frames never overtake each other.
 */
export class TextMessageWriter {
  private readonly prefix: Buffer;
  private readonly suffix: Buffer;

  constructor(
    private readonly socket: WebSocket,
    prefix: string,
    suffix: string,
  ) {
    this.prefix = Buffer.from(prefix);
    this.suffix = Buffer.from(suffix);
  }

  /** Bytes written to the socket and not yet sent on, as `ws` counts them. */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /** Whether a message sent now is framed here (true) or handed to `ws.send` (false). */
  get framesItself(): boolean {
    return this.direct() !== undefined;
  }

  /**
   * Sends the message with `payload` between this subscription's prefix and suffix; `written`
   * is called once it has gone to the kernel (or the socket failed). The caller checks `open`.
   */
  send(payload: Buffer, written?: () => void): void {
    const raw = this.direct();
    const length = this.prefix.length + payload.length + this.suffix.length;
    const header = raw ? headerLength(length) : 0;
    const message = Buffer.allocUnsafe(header + length);
    if (raw) writeHeader(message, length);
    // TypedArray `set`, not Buffer `copy`: no argument checks, half the time for these few bytes.
    message.set(this.prefix, header);
    message.set(payload, header + this.prefix.length);
    message.set(this.suffix, header + this.prefix.length + payload.length);
    if (raw) raw.write(message, written && (() => written()));
    else this.socket.send(message, { binary: false }, written && (() => written()));
  }

  /** The TCP socket, when a frame written to it straight is exactly what `ws` would write. */
  private direct(): Socket | undefined {
    const { _socket: raw, _sender: sender } = this.socket as unknown as WsInternals;
    if (!raw || raw.destroyed || !raw.writable || !sender || sender._state !== 0 || sender._queue?.length) return undefined;
    // Compression negotiated: `ws` would deflate the message.
    if (this.socket.extensions !== '') return undefined;
    return raw;
  }
}
