/** What the rootDSE (RFC 4512 §5.1) tells the bridge about the directory. */
import type { DirEntry, DirectoryCapabilities } from '../ports/directory.ts';
import { ControlOid } from './controls.ts';
import { toPortError } from './errors.ts';
import type { DirectoryLogger } from './options.ts';

/** rootDSE attributes read once at start-up. */
export const ROOT_DSE_ATTRIBUTES = [
  'objectClass',
  'supportedControl',
  'vendorName',
  'vendorVersion',
  // Present only on Active Directory (and Samba AD) domain controllers.
  'forestFunctionality',
  'isGlobalCatalogReady',
];

function texts(entry: DirEntry, attribute: string): string[] {
  return (entry.attributes[attribute.toLowerCase()] ?? []).map((value) =>
    typeof value === 'string' ? value : value.toString('utf8'),
  );
}

/**
 * OpenLDAP's back-mdb (its default backend) keeps each entry's RDN twice, normalised and as given,
 * in one value of its dn2id LMDB database, whose values are limited to LMDB's maximum key size
 * (511 bytes); past that slapd answers `other` (80). Measured with slapd 2.5 (Debian 12): an RDN
 * `uid=<value>` of 245 UTF-8 bytes is stored, 246 is not. Other directories allow longer RDNs
 * (Active Directory's own limits, e.g. cn ≤ 64, come back as constraintViolation).
 */
export const OPENLDAP_MDB_MAX_RDN_BYTES = 245;

export function capabilitiesFromRootDse(rootDse: DirEntry): DirectoryCapabilities {
  const controls = new Set(texts(rootDse, 'supportedControl'));
  const vendor = vendorOf(rootDse);
  return {
    vendor,
    ...(vendor === 'openldap' ? { maxRdnBytes: OPENLDAP_MDB_MAX_RDN_BYTES } : {}),
    pagedResults: controls.has(ControlOid.pagedResults),
    serverSideSort: controls.has(ControlOid.serverSideSort),
    virtualListView: controls.has(ControlOid.virtualListView),
    assertion: controls.has(ControlOid.assertion),
    postRead: controls.has(ControlOid.postRead),
  };
}

function vendorOf(rootDse: DirEntry): DirectoryCapabilities['vendor'] {
  const has = (attribute: string) => texts(rootDse, attribute).length > 0;
  if (has('forestFunctionality') || has('isGlobalCatalogReady')) return 'activeDirectory';
  const vendor = texts(rootDse, 'vendorName').join(' ');
  if (/389 Project|Fedora Project|Red Hat|Netscape/i.test(vendor)) return '389ds';
  if (/OpenLDAP/i.test(vendor)) return 'openldap';
  if (texts(rootDse, 'objectClass').some((objectClass) => objectClass.toLowerCase() === 'openldaprootdse')) {
    return 'openldap';
  }
  return 'unknown';
}

/**
 * The directory's capabilities, read from the rootDSE on first use and kept. A failed read is not
 * kept: the next call asks again (the directory may be starting up).
 */
export class CapabilitiesCache {
  readonly #readRootDse: () => Promise<DirEntry>;
  readonly #logger: DirectoryLogger;
  #capabilities: Promise<DirectoryCapabilities> | undefined;
  #known: DirectoryCapabilities | undefined;

  constructor(readRootDse: () => Promise<DirEntry>, logger: DirectoryLogger) {
    this.#readRootDse = readRootDse;
    this.#logger = logger;
  }

  /** The settled value of get(): searches skip an await once it is known. */
  get known(): DirectoryCapabilities | undefined {
    return this.#known;
  }

  get(): Promise<DirectoryCapabilities> {
    if (!this.#capabilities) {
      this.#capabilities = this.#readRootDse().then(
        (rootDse) => {
          const capabilities = capabilitiesFromRootDse(rootDse);
          this.#known = capabilities;
          this.#logger.info(capabilities, 'directory capabilities');
          return capabilities;
        },
        (error: unknown) => {
          this.#capabilities = undefined;
          throw toPortError(error, 'read rootDSE');
        },
      );
    }
    return this.#capabilities;
  }
}
