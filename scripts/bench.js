// bench.js - the node peer of make bench: the `wechat` package's
// middleware answering a text message with its own text, in WORKERS
// processes (node's cluster) on 127.0.0.1:PORT, with no nginx in front.
//
//   NODE_PATH=DIR/node_modules node bench.js PORT TOKEN WORKERS
//
// DIR is the scratch folder where scripts/bench.sh installed wechat@2.1.0.
// TERM stops the workers and the primary.
'use strict';
const cluster = require('cluster');
const http = require('http');
const querystring = require('querystring');

const port = Number(process.argv[2]);
const token = process.argv[3];
const workers = Number(process.argv[4] || 2);

if (cluster.isPrimary) {
    for (let i = 0; i < workers; i++)
        cluster.fork();
    process.on('SIGTERM', () => {
        for (const id in cluster.workers)
            cluster.workers[id].process.kill('SIGTERM');
        process.exit(0);
    });
} else {
    const wechat = require('wechat');
    const reply = wechat(token, (req, res) => res.reply(req.weixin.Content));
    http.createServer((req, res) => {
        const q = req.url.indexOf('?');
        // The middleware reads req.query, which express would have set.
        req.query = querystring.parse(q < 0 ? '' : req.url.slice(q + 1));
        reply(req, res, () => { res.statusCode = 404; res.end(); });
    }).listen(port, '127.0.0.1');
}
