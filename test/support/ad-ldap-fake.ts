// A tiny in-process LDAP responder that answers like Active Directory where slapd cannot: a
// multi-valued attribute with more than `maxValRange` values comes back in ranges
// (`member;range=0-1499`, the last one `member;range=3000-*`), and a request for
// `member;range=<from>-*` answers the next slice. slapd has no ranged retrieval (it always answers
// `member` whole), so the LDAP source's range-following is tested against this. It speaks just
// enough LDAPv3 (BER via ldapts' own reader and writer) for the source: simple bind, search (base
// or subtree; ldapts' filter matching on each attribute's first value; one page, no paged-results
// cookie), unbind.
import { randomBytes } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { BerReader, BerWriter, PresenceFilter, SearchRequest } from 'ldapts';

/** An entry: attribute → values (strings, or a Buffer such as objectGUID). */
export interface FakeAdEntry {
  dn: string;
  attributes: Record<string, string | Buffer | string[]>;
}

export interface FakeAd {
  url: string;
  bindDn: string;
  password: string;
  /** Searches received, base DN and attribute names as sent (lower case). */
  searches: { base: string; attributes: string[] }[];
  close(): Promise<void>;
}

const OP = { bind: 0x60, bindResponse: 0x61, unbind: 0x42, search: 0x63, entry: 0x64, done: 0x65 };

/** An attribute's name as the entry spells it (AD answers the schema's case) and its values; null: absent. */
function valuesOf(entry: FakeAdEntry, name: string): [string, (string | Buffer)[]] | null {
  const key = Object.keys(entry.attributes).find((k) => k.toLowerCase() === name.toLowerCase());
  if (key === undefined) return null;
  const value = entry.attributes[key];
  return [key, Array.isArray(value) ? value : [value]];
}

/** What ldapts' filter matching reads: lower-case names, each attribute's first text value. */
const filterView = (entry: FakeAdEntry): Record<string, string> =>
  Object.fromEntries(
    Object.entries(entry.attributes)
      .map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v[0] : v] as const)
      .filter((pair): pair is readonly [string, string] => typeof pair[1] === 'string'),
  );

/** The attributes answered for one requested name, ranged as AD does past maxValRange values. */
function answerAttribute(entry: FakeAdEntry, requested: string, maxValRange: number): [string, (string | Buffer)[]][] {
  const ranged = /^(.+);range=(\d+)-(\d+|\*)$/i.exec(requested);
  const found = valuesOf(entry, ranged ? ranged[1] : requested);
  if (!found) return [];
  const [name, values] = found;
  const from = ranged ? Number(ranged[2]) : 0;
  if (!ranged && values.length <= maxValRange) return [[name, values]];
  if (from >= values.length) return [];
  const last = Math.min(values.length, from + maxValRange) - 1;
  const end = last === values.length - 1 ? '*' : String(last);
  return [[`${name};range=${from}-${end}`, values.slice(from, last + 1)]];
}

function message(id: number, write: (writer: BerWriter) => void): Buffer {
  const writer = new BerWriter();
  writer.startSequence();
  writer.writeInt(id);
  write(writer);
  writer.endSequence();
  return writer.buffer;
}

const result = (id: number, op: number, code: number) =>
  message(id, (w) => {
    w.startSequence(op);
    w.writeEnumeration(code);
    w.writeString('');
    w.writeString(code === 0 ? '' : code === 49 ? '80090308: LdapErr: DSID-0C09044E, data 52e' : 'error');
    w.endSequence();
  });

function searchEntry(id: number, dn: string, attributes: [string, (string | Buffer)[]][]): Buffer {
  return message(id, (w) => {
    w.startSequence(OP.entry);
    w.writeString(dn);
    w.startSequence();
    for (const [name, values] of attributes) {
      w.startSequence();
      w.writeString(name);
      w.startSequence(0x31);
      for (const v of values) {
        if (Buffer.isBuffer(v)) w.writeBuffer(v, 0x04);
        else w.writeString(v);
      }
      w.endSequence();
      w.endSequence();
    }
    w.endSequence();
    w.endSequence();
  });
}

/** A whole BER element at the start of `buffer`: its length in bytes, or null if incomplete. */
function elementLength(buffer: Buffer): number | null {
  if (buffer.length < 2) return null;
  const first = buffer[1];
  if (first < 0x80) return buffer.length >= 2 + first ? 2 + first : null;
  const bytes = first & 0x7f;
  if (buffer.length < 2 + bytes) return null;
  let length = 0;
  for (let i = 0; i < bytes; i++) length = length * 256 + buffer[2 + i];
  return buffer.length >= 2 + bytes + length ? 2 + bytes + length : null;
}

export async function startFakeAd(options: { entries: FakeAdEntry[]; maxValRange?: number }): Promise<FakeAd> {
  const maxValRange = options.maxValRange ?? 1500;
  const bindDn = 'CN=ferry-reader,OU=Service Accounts,DC=corp,DC=example';
  const password = randomBytes(12).toString('base64url');
  const searches: FakeAd['searches'] = [];
  const sockets = new Set<net.Socket>();

  const handle = (socket: net.Socket, element: Buffer) => {
    const reader = new BerReader(element);
    reader.readSequence();
    const id = reader.readInt() ?? 0;
    const op = reader.peek();
    if (op === OP.unbind) return void socket.end();
    if (op === OP.bind) {
      reader.readSequence();
      reader.readInt();
      const dn = reader.readString() ?? '';
      const given = reader.readString(0x80) ?? '';
      socket.write(result(id, OP.bindResponse, dn === bindDn && given === password ? 0 : 49));
      return;
    }
    if (op !== OP.search) return void socket.destroy();
    reader.readSequence();
    const request = new SearchRequest({ messageId: id, filter: new PresenceFilter({ attribute: 'objectClass' }) });
    request.parseMessage(reader);
    searches.push({ base: request.baseDN, attributes: request.attributes });
    const base = request.baseDN.toLowerCase();
    for (const entry of options.entries) {
      const dn = entry.dn.toLowerCase();
      const inScope = request.scope === 'base' ? dn === base : dn === base || dn.endsWith(`,${base}`);
      // A base read is answered whatever its filter: the source sends (objectClass=*), which every
      // entry matches, and ldapts' parsing of presence filters is not meant for servers.
      if (!inScope || (request.scope !== 'base' && !request.filter.matches(filterView(entry), false))) continue;
      const names = request.attributes.length ? request.attributes : Object.keys(entry.attributes);
      socket.write(
        searchEntry(
          id,
          entry.dn,
          [...new Set(names)].flatMap((n) => answerAttribute(entry, n, maxValRange)),
        ),
      );
    }
    socket.write(result(id, OP.done, 0));
  };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (let length = elementLength(pending); length !== null; length = elementLength(pending)) {
        const element = pending.subarray(0, length);
        pending = pending.subarray(length);
        handle(socket, element);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ldap://127.0.0.1:${port}`,
    bindDn,
    password,
    searches,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
