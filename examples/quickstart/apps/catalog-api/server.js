// Live mode of the catalog: GET /products from PostgreSQL (DATABASE_URL, injected by dvm), GET /health.
import http from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

http
  .createServer(async (req, res) => {
    try {
      if (req.url === '/health') {
        await pool.query('SELECT 1');
        return send(res, 200, { status: 'ok' });
      }
      if (req.url === '/products') {
        const { rows } = await pool.query('SELECT id, name, price_cents FROM products ORDER BY name');
        return send(res, 200, rows.map((r) => ({ id: r.id, name: r.name, priceCents: Number(r.price_cents) })));
      }
      send(res, 404, { error: 'not found' });
    } catch (error) {
      send(res, 503, { error: error.message });
    }
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
