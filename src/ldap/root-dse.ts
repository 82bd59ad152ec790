/** What the rootDSE (RFC 4512 §5.1) tells the bridge about the directory. */
import type { DirEntry, DirectoryCapabilities } from '../ports/directory.ts';
import { ControlOid } from './controls.ts';

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

export function capabilitiesFromRootDse(rootDse: DirEntry): DirectoryCapabilities {
  const controls = new Set(texts(rootDse, 'supportedControl'));
  return {
    vendor: vendorOf(rootDse),
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
