// Test-only Postgres server: PGlite (Postgres compiled to WASM) with the
// pgvector extension, served over the Postgres wire protocol on loopback.
// Started by .ci/pg-start.sh; not part of the library.
//
// Usage: node server.mjs [port] [maxConnections]
// Prints "READY <port>" on stdout once it accepts connections.
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

const port = Number(process.argv[2] ?? 0)
const maxConnections = Number(process.argv[3] ?? 4)

const db = await PGlite.create({ dataDir: 'memory://', extensions: { vector } })
const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections })
await server.start()
const conn = server.getServerConn()
console.log(`READY ${conn.slice(conn.lastIndexOf(':') + 1)}`)

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  try {
    await server.stop()
    await db.close()
  } finally {
    process.exit(0)
  }
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
