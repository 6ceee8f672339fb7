#!/usr/bin/env bash
# Run httpd in the foreground on the rendered config (t/env/render-conf.sh), with a
# clean environment.  Extra environment (e.g. LD_PRELOAD/ASAN_OPTIONS for make
# test-asan) comes from CC_HTTPD_ENV="K=V K=V", extra arguments (e.g. -X) from
# CC_HTTPD_ARGS.  `httpd.sh -t [conf]` only tests a config (default: the rendered one),
# in the same environment (so ASan-built modules load there too).  `httpd.sh -f conf`
# runs another rendered config (a second instance on the same database: the tests'
# second node, t/integration/ccenv.py start_second_httpd).
. "$(dirname "$0")/lib.sh"

if [ "${1:-}" = -f ]; then
    CC_HTTPD_CONF=$2
    shift 2
fi

if [ "${1:-}" = -t ]; then
    conf=${2:-$CC_HTTPD_CONF}
    [ -r "$conf" ] || cc_die "no $conf (run t/env/render-conf.sh)"
    # shellcheck disable=SC2086
    exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C ${CC_HTTPD_ENV:-} \
        "$CC_HTTPD_BIN" -t -f "$conf"
fi

[ -r "$CC_HTTPD_CONF" ] || cc_die "no $CC_HTTPD_CONF (run t/env/render-conf.sh)"

# shellcheck disable=SC2086   # word splitting of the two lists is intended
exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C ${CC_HTTPD_ENV:-} \
    "$CC_HTTPD_BIN" -f "$CC_HTTPD_CONF" -DFOREGROUND ${CC_HTTPD_ARGS:-}
