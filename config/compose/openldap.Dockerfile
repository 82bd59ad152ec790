# OpenLDAP for docker-compose: Debian's slapd with config/ldap (schema, overlays, seed), like the tests.
FROM debian:bookworm-slim
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
 && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slapd ldap-utils \
 && rm -rf /var/lib/apt/lists/*
COPY config/ldap /etc/scim-ldap
COPY config/compose/openldap-entrypoint.sh /usr/local/bin/openldap-entrypoint.sh
EXPOSE 389
ENTRYPOINT ["/bin/sh", "/usr/local/bin/openldap-entrypoint.sh"]
