/** What the HTTP layer may know of the mappings: resource types by endpoint, and the loaded set. */
export type { CompiledResourceType as ResourceType, MappingSet } from '../mapping/compiled.ts';
export { findResourceTypeByEndpoint } from '../mapping/compiled.ts';
