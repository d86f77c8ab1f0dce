import WebSocket from 'ws';
import { expect, it } from 'vitest';
import { TextMessageWriter } from '../../src/graphql/text-frame-writer.ts';
import { wsPairs } from './ws-pair.ts';

const pair = wsPairs();
/** A connected server socket and client, with compression offered on both sides or on neither. */
const connect = (perMessageDeflate: boolean) => pair({ server: { perMessageDeflate }, client: { perMessageDeflate } });

/** Collects the next `count` messages the client receives, as text, failing on a binary one. */
function receive(client: WebSocket, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const messages: string[] = [];
    client.on('message', (data, isBinary) => {
      if (isBinary) reject(new Error('a binary message arrived'));
      messages.push(data.toString());
      if (messages.length === count) resolve(messages);
    });
    client.once('close', (code) => reject(new Error(`closed with ${code} after ${messages.length} messages`)));
  });
}

const PREFIX = '{"id":"é1","payload":';
const SUFFIX = '}';
/** Message lengths in bytes at each edge of the three header sizes (7-bit, 16-bit and 64-bit lengths). */
const MESSAGE_BYTES = [30, 125, 126, 127, 65_535, 65_536, 65_537, 1_000_000];

it('frames text messages itself that a ws client reads back whole, at every header length', async () => {
  const { serverSocket, client } = await connect(false);
  const writer = new TextMessageWriter(serverSocket, PREFIX, SUFFIX);
  expect(writer.framesItself).toBe(true);
  // Each payload a JSON string of multi-byte characters, padded with ASCII to the exact length.
  const payloads = MESSAGE_BYTES.map((bytes) => {
    const room = bytes - Buffer.byteLength(PREFIX + SUFFIX) - 2;
    const wide = 'ü€😀'.repeat(Math.floor(room / 9));
    return JSON.stringify(wide + 'x'.repeat(room - Buffer.byteLength(wide)));
  });
  expect(payloads.map((p) => Buffer.byteLength(PREFIX + p + SUFFIX))).toEqual(MESSAGE_BYTES);
  const received = receive(client, payloads.length);
  for (const payload of payloads) writer.send(Buffer.from(payload));
  expect(await received).toEqual(payloads.map((p) => PREFIX + p + SUFFIX));
});

it('calls back once a message went out, on both paths', async () => {
  for (const deflate of [false, true]) {
    const { serverSocket, client } = await connect(deflate);
    const writer = new TextMessageWriter(serverSocket, '[', ']');
    const received = receive(client, 1);
    await new Promise<void>((resolve) => writer.send(Buffer.from('1'), resolve));
    expect(await received).toEqual(['[1]']);
  }
});

it('hands messages to ws when compression was negotiated, and they arrive the same', async () => {
  const { serverSocket, client } = await connect(true);
  expect(client.extensions).toContain('permessage-deflate');
  const writer = new TextMessageWriter(serverSocket, '{"p":', '}');
  expect(writer.framesItself).toBe(false);
  const received = receive(client, 2);
  writer.send(Buffer.from('"a"'));
  writer.send(Buffer.from(JSON.stringify('b'.repeat(100_000))));
  expect(await received).toEqual(['{"p":"a"}', `{"p":"${'b'.repeat(100_000)}"}`]);
});

it('keeps frames in order behind a message that ws is still holding back', async () => {
  const { serverSocket, client } = await connect(false);
  const writer = new TextMessageWriter(serverSocket, '', '');
  const received = receive(client, 2);
  // A Blob is read asynchronously: `ws` queues whatever is sent after it until it has been sent.
  serverSocket.send(new Blob(['first']), { binary: false });
  expect(writer.framesItself).toBe(false);
  writer.send(Buffer.from('second'));
  expect(await received).toEqual(['first', 'second']);
});

it('stops framing itself once the socket has closed', async () => {
  const { serverSocket, client } = await connect(false);
  const writer = new TextMessageWriter(serverSocket, '', '');
  client.close();
  await new Promise((resolve) => serverSocket.once('close', resolve));
  expect(writer.open).toBe(false);
  expect(writer.framesItself).toBe(false);
});
