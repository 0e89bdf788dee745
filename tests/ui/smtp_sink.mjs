/*
 * smtp_sink.mjs — a small SMTP server on a free loopback port for the UI
 * tests whose messages must reach (or be refused by) a mail server: the
 * node counterpart of tests/api/peers.py's MailSink, reduced to what the
 * box's libcurl uses without TLS and AUTH (EHLO, MAIL, RCPT, DATA, RSET,
 * NOOP, QUIT).
 *
 * `reject` holds addresses answered "550 5.1.1 No such user" at RCPT (a
 * permanent refusal: the box gives the message up at once, `dead`); it may
 * be changed while the sink runs. Every accepted message's recipients and
 * text are kept in `messages`.
 */
import net from 'node:net';

export class SmtpSink {
  constructor({ reject = [] } = {}) {
    this.reject = new Set(reject.map((a) => a.toLowerCase()));
    this.messages = [];
    this.rcptLog = [];
    this.server = null;
    this.port = null;
    this.sockets = new Set();
  }

  get url() {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /* The server settings that send the box's email here. */
  env() {
    return { CLINICBOX_SMTP_URL: this.url, CLINICBOX_SMTP_FROM: 'Praxis Sonnenschein <praxis@example.org>' };
  }

  start() {
    this.server = net.createServer((sock) => this.session(sock));
    return new Promise((resolve, reject) => {
      this.server.on('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.port = this.server.address().port;
        resolve(this);
      });
    });
  }

  stop() {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  session(sock) {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => {});
    sock.setEncoding('latin1');
    let buf = '';
    let inData = false;
    let data = [];
    let rcpt = [];
    const say = (line) => sock.write(line + '\r\n');
    say('220 sink.test ESMTP');
    sock.on('data', (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            this.messages.push({ rcpt, text: data.join('\n') });
            data = [];
            rcpt = [];
            say('250 2.0.0 queued');
          } else data.push(line.startsWith('..') ? line.slice(1) : line);
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') say('250 sink.test');
        else if (verb === 'MAIL') {
          rcpt = [];
          say('250 2.1.0 ok');
        } else if (verb === 'RCPT') {
          const m = /<([^>]*)>/.exec(line);
          const addr = (m ? m[1] : '').toLowerCase();
          const refused = this.reject.has(addr);
          this.rcptLog.push({ address: addr, refused });
          if (refused) say('550 5.1.1 No such user');
          else {
            rcpt.push(addr);
            say('250 2.1.5 ok');
          }
        } else if (verb === 'DATA') {
          if (!rcpt.length) say('554 5.5.1 no valid recipients');
          else {
            inData = true;
            say('354 go ahead');
          }
        } else if (verb === 'RSET') {
          rcpt = [];
          say('250 2.0.0 ok');
        } else if (verb === 'NOOP') say('250 2.0.0 ok');
        else if (verb === 'QUIT') {
          say('221 2.0.0 bye');
          sock.end();
        } else say('502 5.5.2 not implemented');
      }
    });
  }
}
