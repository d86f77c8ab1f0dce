import { createConnection } from 'node:net';

/**
 * Sends one Redis command and returns its reply as text (a bulk string or status line), enough for
 * CLIENT LIST and CLIENT KILL in the tests. A few lines of RESP keep ioredis out of the root.
 */
export function redisCommand(url: string, ...args: string[]): Promise<string> {
  const { hostname, port } = new URL(url);
  const request = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) }, () => socket.write(request));
    let data = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const text = data.toString();
      const firstLine = text.indexOf('\r\n');
      if (firstLine < 0) return;
      const head = text.slice(0, firstLine);
      if (head.startsWith('+') || head.startsWith(':') || head.startsWith('-')) {
        socket.end();
        if (head.startsWith('-')) reject(new Error(head.slice(1)));
        else resolve(head.slice(1));
      } else if (head.startsWith('$')) {
        const length = Number(head.slice(1));
        const body = data.subarray(Buffer.byteLength(head) + 2);
        if (body.length >= length + 2) {
          socket.end();
          resolve(body.subarray(0, length).toString());
        }
      }
    });
    socket.on('error', reject);
  });
}
