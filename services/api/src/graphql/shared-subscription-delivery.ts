import type { ExecutionArgs, ExecutionResult } from 'graphql';
import type { WebSocket } from 'ws';
import { execute, GraphQLError } from 'graphql';
import { compiledOperation } from './jit-queries.ts';
import type { SubscriptionStream } from './subscription-stream.ts';
import { TextMessageWriter } from './text-frame-writer.ts';

/** Yoga's error masking as configured (message, dev mode, logging of what it hides). */
export type MaskErrors = (error: GraphQLError) => GraphQLError;

/**
 * Above this many bytes waiting in a socket's send buffer the reader is slow: delivery pauses
 * until what was sent drains, and the feed keeps only the newest state for it meanwhile.
 */
const SLOW_SOCKET_BYTES = 64 * 1024;

/**
 * Serialised `next` payloads (UTF-8) by event object, then by share key. Every subscriber of a
 * task gets the same event object from the feed, so subscribers with the same operation,
 * variables and caller execute, serialise and encode it once between them; the entry goes when
 * the event object does.
 */
const payloads = new WeakMap<object, Map<string, Buffer | Promise<Buffer>>>();

function serialise(result: ExecutionResult, mask: MaskErrors): Buffer {
  const { errors, ...rest } = result;
  // The same shape graphql-ws sends: `errors` omitted when there are none, errors as their JSON.
  return Buffer.from(JSON.stringify(errors ? { ...rest, errors: errors.map((error) => mask(error).toJSON()) } : rest));
}

function execution(event: object, args: ExecutionArgs, mask: MaskErrors): Buffer | Promise<Buffer> {
  // What graphql-js does for each event of a subscription: run the operation with the event as
  // the root value (the field's `resolve` maps it).
  const standard = (): Buffer | Promise<Buffer> => {
    const result = execute({ ...args, rootValue: event });
    return result instanceof Promise ? result.then((r) => serialise(r, mask)) : serialise(result, mask);
  };
  // The same through graphql-jit, compiled once per subscription document: graphql-js executing
  // events took about an eighth of the API's CPU in a fan-out round. As for queries
  // (`jit-queries.ts`), a result with an error or a throw is thrown away and the event executed
  // by graphql-js, whose errors are the ones clients know; an event execution changes nothing.
  const compiled = compiledOperation(args.schema, args.document, args.operationName);
  if (!compiled) return standard();
  let result: ExecutionResult | Promise<ExecutionResult>;
  try {
    result = compiled.query(event, args.contextValue, args.variableValues);
  } catch {
    return standard();
  }
  if (result instanceof Promise) return result.then((r) => (r.errors?.length ? standard() : serialise(r, mask)), standard);
  return result.errors?.length ? standard() : serialise(result, mask);
}

/**
 * The last payload looked up: the feed hands one event to all of a task's subscribers in a row,
 * so most lookups are for the same event and key as the one before, and skip both maps. Held
 * until the current job ends only, so that it keeps no event alive after its subscribers left.
 */
let last: { event: object; shareKey: string; payload: Buffer | Promise<Buffer> } | undefined;
let forgetting = false;
const forget = () => {
  last = undefined;
  forgetting = false;
};

function payloadFor(event: object, shareKey: string, args: ExecutionArgs, mask: MaskErrors): Buffer | Promise<Buffer> {
  if (last !== undefined && last.event === event && last.shareKey === shareKey) return last.payload;
  const payload = cachedPayload(event, shareKey, args, mask);
  last = { event, shareKey, payload };
  if (!forgetting) {
    forgetting = true;
    queueMicrotask(forget);
  }
  return payload;
}

function cachedPayload(event: object, shareKey: string, args: ExecutionArgs, mask: MaskErrors): Buffer | Promise<Buffer> {
  let byKey = payloads.get(event);
  if (!byKey) payloads.set(event, (byKey = new Map()));
  let payload = byKey.get(shareKey);
  if (payload === undefined) {
    payload = execution(event, args, mask);
    byKey.set(shareKey, payload);
  }
  return payload;
}

/**
 * One graphql-ws subscription whose events go straight from its source stream to the socket:
 * each event is executed and serialised once per share key (see {@link payloads}), and only the
 * message envelope with this subscription's id is per subscriber. graphql-ws iterates this object
 * as the operation's result; it yields nothing and ends after the last message went out, so
 * graphql-ws's `complete` always follows the final state.
 */
export class SharedSubscriptionDelivery implements AsyncGenerator<never, void, undefined> {
  private readonly writer: TextMessageWriter;
  private ended: Promise<IteratorResult<never, void>> | undefined;
  private stopped = false;

  constructor(
    socket: WebSocket,
    subscriptionId: string,
    private readonly source: SubscriptionStream<object>,
    private readonly shareKey: string,
    private readonly args: ExecutionArgs,
    private readonly mask: MaskErrors,
  ) {
    this.writer = new TextMessageWriter(socket, `{"id":${JSON.stringify(subscriptionId)},"type":"next","payload":`, '}');
  }

  next(): Promise<IteratorResult<never, void>> {
    this.ended ??= this.run();
    return this.ended;
  }

  private async run(): Promise<IteratorResult<never, void>> {
    try {
      // The head (the initial state, read while subscribing) is pulled; then, where the source
      // can push, every state goes out from inside the feed's delivery with no promise per state.
      const more = await this.sendHead();
      if (more && !this.stopped) {
        const pushed = this.pushAll();
        if (pushed) await pushed;
        else for (let item = await this.source.next(); !item.done && !this.stopped; item = await this.source.next()) await this.sendPulled(item.value);
      }
    } catch (error) {
      await this.close();
      throw this.mask(error instanceof GraphQLError ? error : new GraphQLError((error as Error)?.message ?? String(error), { originalError: error as Error }));
    }
    await this.close();
    return { value: undefined, done: true };
  }

  /**
   * Sends the initial state; false when the source already ended. Its own method so that the
   * head, a whole task read for this subscriber alone, is not kept in `run`'s frame for as long
   * as the subscription lives (about 1 KB per subscriber).
   */
  private async sendHead(): Promise<boolean> {
    const head = await this.source.next();
    // The head is this subscriber's own read, an object no other subscriber gets: caching its
    // payload would share nothing, and would put an entry per subscriber into `payloads`, whose
    // table V8 never shrinks once the entries are collected, so a burst of subscribers would
    // leave it at their number for good.
    if (!head.done && !this.stopped) await this.sendPulled(head.value, false);
    return !head.done;
  }

  /** Sends one event; resolves when the socket can take more (at once unless it is slow). */
  private async sendPulled(event: object, shared = true): Promise<void> {
    let payload = shared ? payloadFor(event, this.shareKey, this.args, this.mask) : execution(event, this.args, this.mask);
    if (payload instanceof Promise) payload = await payload;
    const ready = payload;
    await new Promise<void>((resolve) => this.write(ready, resolve) && resolve());
  }

  /**
   * Sends `payload` (nothing once stopped or closed); false when the reader is slow, and then
   * `drained` is called once this message has gone out.
   */
  private write(payload: Buffer, drained: () => void): boolean {
    const writer = this.writer;
    if (this.stopped || !writer.open) return true;
    if (writer.bufferedAmount < SLOW_SOCKET_BYTES) {
      writer.send(payload);
      return true;
    }
    writer.send(payload, drained);
    return false;
  }

  /** Resolves when the source ended (rejects with its error), or undefined if it cannot push. */
  private pushAll(): Promise<void> | undefined {
    let settle: (error: unknown) => void = () => {};
    const ended = new Promise<void>((resolve, reject) => (settle = (error) => (error === undefined ? resolve() : reject(error))));
    /** A payload still being executed asynchronously: later events wait behind it. */
    let pending: Promise<void> | undefined;
    // A slow reader: the source keeps only the newest state until this one has drained.
    const send = (payload: Buffer): boolean => this.write(payload, () => resume?.());
    // `resume` is only called back asynchronously (a drained send, an async payload), after this assignment.
    const resume: (() => void) | undefined = this.source.pushTo({
      next: (event) => {
        const payload = payloadFor(event, this.shareKey, this.args, this.mask);
        if (!(payload instanceof Promise)) return send(payload);
        pending = payload.then((p) => {
          pending = undefined;
          if (send(p)) resume?.();
        });
        return false;
      },
      end: (error) => {
        if (pending) void pending.then(() => settle(error), settle);
        else settle(error);
      },
    });
    return resume ? ended : undefined;
  }

  async return(): Promise<IteratorResult<never, void>> {
    await this.close();
    return { value: undefined, done: true };
  }

  async throw(error: unknown): Promise<IteratorResult<never, void>> {
    await this.close();
    throw error;
  }

  private async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // The operation's own result stream (executor and masking wrappers around the source) is
    // never read and holds nothing outside itself: ending the source is all the cleanup there is.
    await this.source.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
