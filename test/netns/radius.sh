# A real FreeRADIUS (Debian's freeradius 3) for end-to-end tests, sourced after lib.sh.
#
#   start_radius NS ADDRESS SECRET USER=PASSWORD…
#
# runs `freeradius -X` in namespace NS, listening for authentication on ADDRESS:1812 only, with a
# raddb generated under $TMP/radius-ADDRESS/ from Debian's /etc/freeradius/3.0: one virtual
# server (authorize: files, pap; authenticate: pap), the modules it needs and nothing else (no
# EAP, no TLS, no inner tunnel, no proxying, no accounting), a users file with one
# `NAME Cleartext-Password := "PASSWORD"` line per USER=PASSWORD, and a clients.conf that knows
# every address of $RADIUS_CLIENTS (default: 10.1.0.1, the box's external address) plus ADDRESS
# itself, all with SECRET. Its log is $TMP/radius-ADDRESS.log; it runs until the EXIT trap (or
# stop_radius ADDRESS). Returns once a PAP request (radclient, the client of radtest) from NS gets an Access-Accept for the first user.
#
#   stop_radius ADDRESS       kills that server and waits until it is gone
#   radius_answer NS ADDRESS SECRET USER PASSWORD    prints Access-Accept, Access-Reject or none
#   radius_accepts NS ADDRESS SECRET USER PASSWORD   true on an Access-Accept

declare -A RADIUS_PID=()

start_radius() {
  local ns=$1 address=$2 secret=$3
  shift 3
  local dir="$TMP/radius-$address" first_user="" first_password="" pair
  rm -rf "$dir"
  mkdir -p "$dir"
  # cp -a keeps the relative mods-enabled/ symlinks working inside the copy.
  cp -a /etc/freeradius/3.0 "$dir/raddb"
  local raddb="$dir/raddb"
  mkdir -p "$dir/run" "$dir/log"
  # Paths into the copy, no privilege drop (the copy is root's, under $TMP), log to stdout.
  sed -i -e "s|^raddbdir = .*|raddbdir = $raddb|" \
         -e "s|^run_dir = .*|run_dir = $dir/run|" \
         -e "s|^logdir = .*|logdir = $dir/log|" \
         -e "s|^\(\s*\)user = freerad|\1# user = freerad|" \
         -e "s|^\(\s*\)group = freerad|\1# group = freerad|" \
         -e "s|^proxy_requests .*|proxy_requests = no|" \
         -e "s|^\(\s*\)colourise = yes|\1colourise = no|" \
         "$raddb/radiusd.conf"
  # Only the modules the virtual server below calls (always: the ok/fail/… policies use it).
  find "$raddb/mods-enabled" -mindepth 1 -delete
  for m in always files pap; do ln -s "../mods-available/$m" "$raddb/mods-enabled/$m"; done
  find "$raddb/sites-enabled" -mindepth 1 -delete
  cat >"$raddb/sites-enabled/bulwark-test" <<EOF
server bulwark-test {
	listen {
		type = auth
		ipaddr = $address
		port = 1812
	}
	authorize {
		files
		pap
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
	}
	# Every answer signed with a Message-Authenticator (what FreeRADIUS 3.2.5 and later do by
	# default against BlastRADIUS; 3.2.1 needs it asked for).
	post-auth {
		update reply {
			Message-Authenticator := 0x00
		}
		Post-Auth-Type REJECT {
			update reply {
				Message-Authenticator := 0x00
			}
			ok
		}
	}
}
EOF
  {
    # The box's requests must carry a Message-Authenticator (RADIUS_REQUIRE_MA=yes); radtest's,
    # from the server's own address for the readiness check, do not.
    for client in ${RADIUS_CLIENTS:-10.1.0.1}; do
      printf 'client c-%s {\n\tipaddr = %s\n\tsecret = "%s"\n\trequire_message_authenticator = %s\n}\n' \
        "${client//[.\/]/-}" "$client" "$secret" "${RADIUS_REQUIRE_MA:-no}"
    done
    printf 'client c-%s {\n\tipaddr = %s\n\tsecret = "%s"\n\trequire_message_authenticator = no\n}\n' \
      "${address//[.\/]/-}" "$address" "$secret"
  } >"$raddb/clients.conf"
  : >"$raddb/mods-config/files/authorize"
  for pair in "$@"; do
    printf '%s Cleartext-Password := "%s"\n' "${pair%%=*}" "${pair#*=}" >>"$raddb/mods-config/files/authorize"
    if [ -z "$first_user" ]; then first_user=${pair%%=*}; first_password=${pair#*=}; fi
  done
  # A syntax check first: a broken raddb is reported at once instead of as a timeout.
  if ! ip netns exec "$ns" freeradius -C -d "$raddb" >"$dir/check.log" 2>&1; then
    echo "freeradius rejects the generated raddb $raddb:"; tail -n 20 "$dir/check.log"
    return 1
  fi
  ip netns exec "$ns" freeradius -X -d "$raddb" >"$TMP/radius-$address.log" 2>&1 &
  RADIUS_PID[$address]=$!
  PIDS+=($!)
  wait_for "FreeRADIUS on $address to start" 20 grep -q "Ready to process requests" "$TMP/radius-$address.log" ||
    return 1
  if [ -n "$first_user" ]; then
    wait_for "FreeRADIUS on $address to accept $first_user" 10 \
      radius_accepts "$ns" "$address" "$secret" "$first_user" "$first_password"
  fi
}

# radius_answer NS ADDRESS SECRET USER PASSWORD: prints what the server answered a PAP request
# (Access-Accept, Access-Reject) or "none"; one try, 2 s (radtest itself would retry for 10 s).
radius_answer() {
  local out
  out=$(printf 'User-Name = "%s"\nUser-Password = "%s"\nNAS-IP-Address = %s\nNAS-Port = 0\n' "$4" "$5" "$2" |
        timeout 5 ip netns exec "$1" radclient -r 1 -t 2 "$2:1812" auth "$3" 2>&1) || true
  case "$out" in
    *"Received Access-Accept"*) echo Access-Accept ;;
    *"Received Access-Reject"*) echo Access-Reject ;;
    *) echo none ;;
  esac
}

radius_accepts() {  # NS ADDRESS SECRET USER PASSWORD
  [ "$(radius_answer "$@")" = Access-Accept ]
}

stop_radius() {  # ADDRESS
  local pid=${RADIUS_PID[$1]:-}
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "RADIUS_PID[$1]"
}
