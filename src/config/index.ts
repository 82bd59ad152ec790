export { ConfigError, type ConfigProblem } from './errors.ts';
export { DEFAULT_CONFIG_FILE, type LoadConfigOptions } from './layers.ts';
export { configuredLdapServers, preferredWritableUrl } from './ldap-servers.ts';
export { defaultConfig, loadConfig, PLAIN_TOKEN_NAME } from './load.ts';
export { redactConfig } from './redact.ts';
export type {
  AuthConfig,
  BridgeConfig,
  EventServiceConfig,
  EventsConfig,
  FeedConfig,
  IdempotencyConfig,
  LdapConfig,
  LdapServerConfig,
  LdapTlsConfig,
  LimitsConfig,
  LogConfig,
  LogLevel,
  MappingsConfig,
  RedisConfig,
  ServerConfig,
  TokenHash,
} from './schema.ts';
export { configSchema } from './schema.ts';
export { knownEnvVars, type Setting, secretPaths, settings } from './settings.ts';
