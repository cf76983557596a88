/** Framing of the MongoDB wire protocol for the double: legacy OP_QUERY/OP_REPLY (first handshake) and OP_MSG. */
import { BSON, type Document } from 'mongodb';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

/** Runs one command against the double's state; `db` from `$db` (OP_MSG) or the namespace (OP_QUERY). */
export type RunCommand = (command: Document, db: string) => Promise<Document>;

function frame(requestId: number, responseTo: number, opCode: number, body: Buffer): Buffer {
  const header = Buffer.alloc(16);
  [16 + body.length, requestId, responseTo, opCode].forEach((v, i) => header.writeInt32LE(v, 4 * i));
  return Buffer.concat([header, body]);
}

function readDoc(buf: Buffer, at: number): { doc: Document; end: number } {
  const size = buf.readInt32LE(at);
  return { doc: BSON.deserialize(buf.subarray(at, at + size)), end: at + size };
}

/** Parses one complete message, runs it; returns the reply to send, or null (moreToCome: the client expects none). */
export async function handleMessage(run: RunCommand, msg: Buffer, nextId: () => number): Promise<Buffer | null> {
  const requestId = msg.readInt32LE(4);
  const opCode = msg.readInt32LE(12);
  if (opCode === OP_QUERY) { // flags, fullCollectionName (`admin.$cmd`), numberToSkip, numberToReturn, query
    const nameEnd = msg.indexOf(0, 20);
    const reply = await run(readDoc(msg, nameEnd + 1 + 8).doc, msg.toString('utf8', 20, nameEnd).split('.')[0] ?? 'admin');
    const body = Buffer.alloc(20); // responseFlags, cursorID (int64 0), startingFrom, numberReturned
    body.writeInt32LE(1, 16);
    return frame(nextId(), requestId, OP_REPLY, Buffer.concat([body, BSON.serialize(reply)]));
  }
  if (opCode !== OP_MSG) throw new Error(`opCode ${opCode} is not modelled by the double`);
  const flags = msg.readUInt32LE(16);
  const end = flags & 1 ? msg.length - 4 : msg.length; // bit 0: checksumPresent
  let command: Document = {};
  const sequences: Document = {};
  for (let at = 20; at < end;) {
    if (msg.readUInt8(at) === 0) ({ doc: command, end: at } = readDoc(msg, at + 1));
    else { // kind 1: size, identifier, documents
      const sectionEnd = at + 1 + msg.readInt32LE(at + 1);
      const idEnd = msg.indexOf(0, at + 5);
      const docs: Document[] = [];
      for (let p = idEnd + 1; p < sectionEnd;) {
        const { doc, end: next } = readDoc(msg, p);
        docs.push(doc);
        p = next;
      }
      sequences[msg.toString('utf8', at + 5, idEnd)] = docs;
      at = sectionEnd;
    }
  }
  const reply = await run({ ...command, ...sequences }, typeof command.$db === 'string' ? command.$db : 'admin');
  if (flags & 2) return null;
  return frame(nextId(), requestId, OP_MSG, Buffer.concat([Buffer.alloc(5), BSON.serialize(reply)]));
}
