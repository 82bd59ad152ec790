/**
 * Request controls ldapts 9 does not ship. ldapts 9 hands a response control to the request
 * control instance whose `responseType` equals the response's OID (ControlParser, default case),
 * so each class below parses its own response into fields of the instance that was sent.
 */
import { Ber, type BerReader, BerWriter, Control, type Filter, SearchEntry } from 'ldapts';

export const ControlOid = {
  pagedResults: '1.2.840.113556.1.4.319',
  serverSideSort: '1.2.840.113556.1.4.473',
  virtualListView: '2.16.840.1.113730.3.4.9',
  virtualListViewResponse: '2.16.840.1.113730.3.4.10',
  assertion: '1.3.6.1.1.12',
  postRead: '1.3.6.1.1.13.2',
} as const;

/** [0] constructed: the byOffset choice of the VLV target (draft-ietf-ldapext-ldapv3-vlv-09, request control). */
const VLV_BY_OFFSET_TAG = 0xa0;
/** [APPLICATION 4] constructed: SearchResultEntry (RFC 4511 §4.5.2). */
const SEARCH_RESULT_ENTRY_TAG = 0x64;

export interface VirtualListViewResponse {
  /** 1-based position of the target entry in the sorted list. */
  targetPosition: number;
  /** The server's count of the whole sorted list. */
  contentCount: number;
  /** Result of the VLV part; 0 = success, 61 = offsetRangeError, 60 = sortControlMissing. */
  result: number;
  contextId?: Buffer;
}

export interface VirtualListViewOptions {
  beforeCount: number;
  afterCount: number;
  /** 1-based position of the target entry. */
  offset: number;
  /** The client's estimate of the list size; 0 = "no idea", the server then takes offset as is. */
  contentCount: number;
  /**
   * The contextID of an earlier response on the same connection: the server may answer from the
   * sorted list it kept for that search instead of searching and sorting again.
   */
  contextId?: Buffer;
}

/**
 * Virtual List View request (draft-ietf-ldapext-ldapv3-vlv-09, "Virtual List View Request Control"),
 * byOffset form; offsets are 1-based:
 *   VirtualListViewRequest ::= SEQUENCE { beforeCount INTEGER, afterCount INTEGER,
 *     target CHOICE { byOffset [0] SEQUENCE { offset INTEGER, contentCount INTEGER }, ... },
 *     contextID OCTET STRING OPTIONAL }
 * Sent critical: a server that cannot honour it must fail the search instead of returning
 * everything. Requires a server-side sort control (RFC 2891) on the same search.
 */
export class VirtualListViewControl extends Control {
  readonly window: VirtualListViewOptions;
  /** Filled from the server's VirtualListViewResponse (2.16.840.1.113730.3.4.10) once the search settles. */
  response: VirtualListViewResponse | undefined;

  constructor(window: VirtualListViewOptions) {
    super(ControlOid.virtualListView, { critical: true, responseType: ControlOid.virtualListViewResponse });
    this.window = window;
  }

  protected override writeControl(writer: BerWriter): void {
    this.response = undefined;
    const value = new BerWriter();
    value.startSequence();
    value.writeInt(this.window.beforeCount);
    value.writeInt(this.window.afterCount);
    value.startSequence(VLV_BY_OFFSET_TAG);
    value.writeInt(this.window.offset);
    value.writeInt(this.window.contentCount);
    value.endSequence();
    if (this.window.contextId) value.writeBuffer(this.window.contextId, Ber.OctetString);
    value.endSequence();
    writer.writeBuffer(value.buffer, Ber.OctetString);
  }

  /** VirtualListViewResponse ::= SEQUENCE { targetPosition, contentCount, virtualListViewResult, contextID? } */
  protected override parseControl(reader: BerReader): void {
    if (reader.readSequence() === null) return;
    const end = reader.offset + reader.length;
    const targetPosition = reader.readInt() ?? 0;
    const contentCount = reader.readInt() ?? 0;
    const result = reader.readEnumeration() ?? 0;
    const contextId =
      reader.offset < end ? (reader.readString(Ber.OctetString, true) ?? undefined) : undefined;
    this.response = { targetPosition, contentCount, result, ...(contextId ? { contextId } : {}) };
  }
}

/**
 * Assertion control (RFC 4528 §3): the operation is performed only if the entry matches the
 * filter, atomically; otherwise it fails with assertionFailed (122). The control value is the
 * BER-encoded Filter. Critical, so a server without the control refuses instead of writing blindly.
 */
export class AssertionControl extends Control {
  readonly filter: Filter;

  constructor(filter: Filter) {
    super(ControlOid.assertion, { critical: true });
    this.filter = filter;
  }

  protected override writeControl(writer: BerWriter): void {
    const value = new BerWriter();
    this.filter.write(value);
    writer.writeBuffer(value.buffer, Ber.OctetString);
  }
}

/**
 * Post-read control (RFC 4527 §3.2): the response of add/modify/modifyDN carries the entry as the
 * operation left it. Request value: AttributeSelection ::= SEQUENCE OF LDAPString; response value:
 * a SearchResultEntry. Non-critical: if the server sends nothing back, the caller reads the entry.
 */
export class PostReadControl extends Control {
  readonly attributes: string[];
  /** The entry from the response control, parsed like a search result entry. */
  entry: SearchEntry | undefined;

  constructor(attributes: string[]) {
    super(ControlOid.postRead, { critical: false });
    this.attributes = attributes;
  }

  protected override writeControl(writer: BerWriter): void {
    this.entry = undefined;
    const value = new BerWriter();
    value.startSequence();
    for (const attribute of this.attributes) value.writeString(attribute);
    value.endSequence();
    writer.writeBuffer(value.buffer, Ber.OctetString);
  }

  protected override parseControl(reader: BerReader): void {
    if (reader.readSequence(SEARCH_RESULT_ENTRY_TAG) === null) return;
    const entry = new SearchEntry({ messageId: 0 });
    entry.parseMessage(reader);
    this.entry = entry;
  }
}
