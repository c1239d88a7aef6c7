# Sourced by `make test`: makes sure PostgreSQL and Redis are reachable on this machine
# (starting them, or installing them from Debian's packages when missing) and that
# Chromium and axe-core are installed for the browser tests, and exports
# CHAMBER_TEST_DATABASE_URL, CHAMBER_TEST_REDIS_URL, CHAMBER_TEST_CHROMIUM and
# CHAMBER_TEST_AXE for the tests.
# Variables already set in the environment are kept: point them at other servers to use those.

_svc_log() { printf 'services: %s\n' "$*" >&2; }

_svc_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else
		_svc_log "need root (or sudo) to run: $*"; return 1; fi
}

_svc_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

_svc_wait() { # host port what
	for _ in $(seq 1 60); do _svc_open "$1" "$2" && return 0; sleep 0.5; done
	_svc_log "$3 did not come up on $1:$2"; return 1
}

_svc_apt_updated=
_svc_install() {
	if [ -z "$_svc_apt_updated" ]; then
		_svc_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
		_svc_apt_updated=1
	fi
	_svc_log "installing $*"
	_svc_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

_svc_postgres() {
	if ! _svc_open 127.0.0.1 5432; then
		if ! command -v pg_ctlcluster >/dev/null; then _svc_install postgresql || return 1; fi
		local version
		version=$(ls /etc/postgresql | sort -V | tail -n 1)
		if [ -z "$version" ]; then _svc_log "no PostgreSQL cluster found in /etc/postgresql"; return 1; fi
		_svc_log "starting PostgreSQL $version"
		_svc_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || return 1
		_svc_wait 127.0.0.1 5432 PostgreSQL || return 1
	fi
	# A role and database for the tests, made over the local socket as the postgres user;
	# each test then works in a schema of its own.
	local psql=(psql -q -v ON_ERROR_STOP=1 -d postgres)
	if [ "$(id -un)" = postgres ]; then :; elif [ "$(id -u)" = 0 ]; then psql=(runuser -u postgres -- "${psql[@]}");
	else psql=(sudo -n -u postgres "${psql[@]}"); fi
	"${psql[@]}" -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'chamber'" | grep -q 1 ||
		"${psql[@]}" -c "CREATE ROLE chamber LOGIN SUPERUSER PASSWORD 'chamber'" || return 1
	"${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = 'chamber_test'" | grep -q 1 ||
		"${psql[@]}" -c "CREATE DATABASE chamber_test OWNER chamber" || return 1
	export CHAMBER_TEST_DATABASE_URL="postgres://chamber:chamber@127.0.0.1:5432/chamber_test?sslmode=disable"
}

_svc_redis() {
	if ! _svc_open 127.0.0.1 6379; then
		if ! command -v redis-server >/dev/null; then _svc_install redis-server || return 1; fi
		_svc_log "starting Redis"
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
			--dir /tmp --logfile /tmp/chamber-test-redis.log || return 1
		_svc_wait 127.0.0.1 6379 Redis || return 1
	fi
	export CHAMBER_TEST_REDIS_URL="redis://127.0.0.1:6379/0"
}

_svc_chromium() {
	local path
	path=$(command -v chromium || true)
	if [ -z "$path" ]; then
		_svc_install chromium || return 1
		path=$(command -v chromium) || { _svc_log "chromium is not on the PATH after installing it"; return 1; }
	fi
	export CHAMBER_TEST_CHROMIUM="$path"
}

# axe-core, for the accessibility checks of the browser tests only: the version and
# integrity pinned by web/browsertest/testdata/axe/package-lock.json, installed from the
# npm registry into a cache outside the working tree, once per lockfile.
_svc_axe() {
	local src dir
	src="$(cd "$(dirname "${BASH_SOURCE[0]:-.ci/services.sh}")/.." && pwd)/web/browsertest/testdata/axe"
	dir="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/chamber-test/axe-$(sha256sum "$src/package-lock.json" | cut -c1-16)"
	if [ ! -f "$dir/node_modules/axe-core/axe.min.js" ]; then
		if ! command -v npm >/dev/null; then _svc_install npm || return 1; fi
		_svc_log "installing axe-core into $dir"
		mkdir -p "$dir" && cp "$src/package.json" "$src/package-lock.json" "$dir/" || return 1
		npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund --loglevel=error >&2 || return 1
	fi
	export CHAMBER_TEST_AXE="$dir/node_modules/axe-core/axe.min.js"
}

if [ -z "${CHAMBER_TEST_DATABASE_URL:-}" ]; then _svc_postgres || return 1 2>/dev/null || exit 1; fi
if [ -z "${CHAMBER_TEST_REDIS_URL:-}" ]; then _svc_redis || return 1 2>/dev/null || exit 1; fi
if [ -z "${CHAMBER_TEST_CHROMIUM:-}" ]; then _svc_chromium || return 1 2>/dev/null || exit 1; fi
if [ -z "${CHAMBER_TEST_AXE:-}" ]; then _svc_axe || return 1 2>/dev/null || exit 1; fi
export CHAMBER_TEST_REQUIRE_SERVICES=1
_svc_log "PostgreSQL: ${CHAMBER_TEST_DATABASE_URL%%\?*}  Redis: $CHAMBER_TEST_REDIS_URL  Chromium: $CHAMBER_TEST_CHROMIUM  axe: $CHAMBER_TEST_AXE"
