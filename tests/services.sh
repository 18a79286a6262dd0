#!/usr/bin/env bash
# Start the services the tests use (Postgres, Redis, NATS) if they are not already answering.
# Idempotent: a service that is up is left alone. Under CI a service that stays down fails the run.
set -uo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
    local name=$1 port=$2
    for _ in $(seq 1 50); do
        up "$port" && return 0
        sleep 0.2
    done
    echo "services.sh: $name is not answering on 127.0.0.1:$port" >&2
    return 1
}

status=0
if ! up 5432; then
    echo "services.sh: starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    wait_for PostgreSQL 5432 || status=1
fi
if ! up 6379; then
    echo "services.sh: starting Redis" >&2
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null || true
    wait_for Redis 6379 || status=1
fi
if ! up 4222; then
    echo "services.sh: starting NATS" >&2
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server || true
    wait_for NATS 4222 || status=1
fi
if [[ $status -ne 0 && "${CI:-}" == "true" ]]; then
    exit 1
fi
exit 0
