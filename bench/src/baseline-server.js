/**
 * The reads baseline: a bare node:http server with a pg pool that answers GET /tasks/{id} with
 * the same primary-key SELECT and a JSON body. Run as its own process by the reads scenario.
 * Plain JavaScript, run by plain `node` as the API's compiled `dist` is: a peer held back by a
 * development transpiler would flatter the ratio.
 */
import { createServer } from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
pool.on('error', () => {});
const PREFIX = '/tasks/';

const server = createServer((req, res) => {
  if (req.url === '/health') {
    res.end('ok');
    return;
  }
  if (req.method !== 'GET' || !req.url?.startsWith(PREFIX)) {
    res.statusCode = 404;
    res.end();
    return;
  }
  const id = decodeURIComponent(req.url.slice(PREFIX.length));
  pool.query({ name: 'get', text: 'select * from tasklane.tasks where id = $1', values: [id] }).then(
    ({ rows }) => {
      const row = rows[0];
      if (!row) {
        res.statusCode = 404;
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify(row));
    },
    () => {
      res.statusCode = 500;
      res.end();
    },
  );
});
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  void pool.end().then(() => process.exit(0));
});
