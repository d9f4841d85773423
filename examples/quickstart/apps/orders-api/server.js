// Live mode of orders: POST /orders {productId, quantity} prices an order from PostgreSQL (DATABASE_URL) and
// numbers it with a Redis counter (REDIS_URL), both injected by dvm; GET /health checks both.
import http from 'node:http';
import pg from 'pg';
import { createClient } from 'redis';
import { formatPrice, orderTotal } from './index.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
const redis = createClient({ url: process.env.REDIS_URL });
redis.on('error', () => {});
await redis.connect();

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readJson(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return JSON.parse(text || '{}');
}

http
  .createServer(async (req, res) => {
    try {
      if (req.url === '/health') {
        await Promise.all([pool.query('SELECT 1'), redis.ping()]);
        return send(res, 200, { status: 'ok' });
      }
      if (req.url === '/orders' && req.method === 'POST') {
        const { productId, quantity } = await readJson(req);
        const { rows } = await pool.query('SELECT price_cents FROM products WHERE id = $1', [productId]);
        if (!rows[0]) return send(res, 404, { error: `no product ${productId}` });
        const totalCents = orderTotal([{ priceCents: Number(rows[0].price_cents), quantity }]);
        const number = await redis.incr('orders:next-number');
        return send(res, 201, { number, totalCents, total: formatPrice(totalCents) });
      }
      send(res, 404, { error: 'not found' });
    } catch (error) {
      send(res, error instanceof RangeError ? 400 : 503, { error: error.message });
    }
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
