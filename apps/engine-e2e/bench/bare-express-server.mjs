// The benchmark's baseline: a bare Express 5 app answering the notification route's shape (JSON body in, 202
// JSON out) with nothing else (no request id, log line, metrics, auth, validation or queue). Prints its port.
import express from 'express';

const app = express();
app.use(express.json({ limit: '256kb' }));
app.post('/v1/notifications', (req, res) => {
  res.status(202).json({ matched: Array.isArray(req.body?.data) ? req.body.data.length : 0, enqueued: 0 });
});
const server = app.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
