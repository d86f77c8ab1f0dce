/**
 * The one line for an address the API cannot listen on: the port or host, why, and the setting
 * that fixes it. The launcher says it when it checks before starting, the API when it fails to
 * listen; `code` is the errno code (`EADDRINUSE`, …).
 */
export function listenProblem(code: string | undefined, host: string, port: number): string {
  if (code === 'EADDRINUSE') return `port ${port} is already in use on ${host}; stop the program holding it, or set PORT to another port (PORT=${port === 65535 ? 8000 : port + 1})`;
  if (code === 'EACCES') return `not allowed to listen on port ${port}; ports below 1024 need privileges: set PORT to 1024 or above (PORT=8000)`;
  if (code === 'EADDRNOTAVAIL') return `cannot listen on HOST=${host}: no such address on this machine; set HOST to one of its addresses (HOST=127.0.0.1)`;
  return `cannot listen on ${host}:${port} (${code ?? 'unknown error'}); set PORT or HOST to another value`;
}
