// Client certificates for EC keys made from one template that `parley cert sign --role client`
// signed: the template's to-be-signed part with a new serial and the new key, signed by the CA in
// this process (RSA key generation for 20,000 clients would take minutes). DER by hand: the
// bench's clients need nothing else of a certificate library.
import crypto from 'node:crypto';

// (spkiDer) => a certificate (PEM) for that EC public key.
export function certificateMaker(templatePem, caKeyPem) {
  const der = Buffer.from(templatePem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const [tbs, alg] = children(der, tlv(der, 0));
  const parts = children(tbs, tlv(tbs, 0)); // version, serial, signature alg, issuer, validity, subject, key, extensions
  const caKey = crypto.createPrivateKey(caKeyPem);
  return (spkiDer) => {
    const serial = crypto.randomBytes(16);
    serial[0] = (serial[0] & 0x7f) | 0x40;
    const body = encode(0x30, Buffer.concat([parts[0], encode(0x02, serial), parts[2], parts[3], parts[4], parts[5], spkiDer, ...parts.slice(7)]));
    const signature = crypto.sign('sha256', body, caKey);
    const cert = encode(0x30, Buffer.concat([body, alg, encode(0x03, Buffer.concat([Buffer.from([0]), signature]))]));
    return `-----BEGIN CERTIFICATE-----\n${cert.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  };
}

function tlv(buf, off) {
  let len = buf[off + 1];
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[off + 2 + i];
    head += n;
  }
  return { start: off, content: off + head, end: off + head + len };
}

function children(buf, t) {
  const out = [];
  for (let o = t.content; o < t.end; ) {
    const c = tlv(buf, o);
    out.push(buf.subarray(c.start, c.end));
    o = c.end;
  }
  return out;
}

function encode(tag, content) {
  const n = content.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
