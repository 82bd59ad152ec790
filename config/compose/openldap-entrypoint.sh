#!/bin/sh
# Renders config/ldap/slapd.conf.template (the same one the tests use) for /var/lib/scim-ldap,
# seeds the database once, and runs slapd in the foreground. Durable: no dbnosync.
set -eu
DIR=/var/lib/scim-ldap
SUFFIX=dc=example,dc=com
ROOTPW=${LDAP_ROOT_PASSWORD:-$(head -c 18 /dev/urandom | base64)}
# accesslog: the change feed's log (cn=accesslog), see slapd.conf.template
mkdir -p "$DIR/db" "$DIR/accesslog"
sed -e "s#@DIR@#$DIR#g" -e "s#@CONFIG@#/etc/scim-ldap#g" -e "s#@SUFFIX@#$SUFFIX#g" \
    -e "s#@ROOTPW@#$ROOTPW#g" -e "s#@SVCDN@#cn=svc,$SUFFIX#g" -e "s#@DBNOSYNC@##g" \
  /etc/scim-ldap/slapd.conf.template > "$DIR/slapd.conf"
if [ ! -f "$DIR/db/data.mdb" ]; then
  slapadd -f "$DIR/slapd.conf" -l /etc/scim-ldap/base.ldif
  slapadd -f "$DIR/slapd.conf" -l /etc/scim-ldap/sample.ldif
fi
exec slapd -f "$DIR/slapd.conf" -h "ldap://0.0.0.0:389/" -d 0
