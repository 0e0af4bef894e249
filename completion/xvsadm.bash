# bash completion for xvsadm, the ipvsadm-compatible command line of xvs.
# Installed as share/bash-completion/completions/xvsadm; completes commands, options, the
# values of -s/--tun-type/--set, and service addresses from the current table (when the
# control socket answers; xvsadm -S -n needs root).

_xvsadm_services()
{
	# "-A -t 198.18.0.100:80 -s rr" -> "198.18.0.100:80" for the given switch (-t or -u).
	xvsadm -S -n 2>/dev/null | awk -v sw="$1" '$1 == "-A" && $2 == sw { print $3 }'
}

_xvsadm()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion || return
	else # without the bash-completion package
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
	fi

	local commands="-A --add-service -E --edit-service -D --delete-service -C --clear
		-R --restore -S --save -a --add-server -e --edit-server -d --delete-server
		-L -l --list -Z --zero --set --start-daemon --stop-daemon --status -h --help
		-v --version --add-mark --del-mark --list-marks --trace"
	local service_opts="-t --tcp-service -u --udp-service --sctp-service -f --fwmark-service"
	local svc_params="-s --scheduler -p --persistent -M --netmask -b --sched-flags -o --ops --pe"
	local dest_params="-r --real-server -g --gatewaying -i --ipip -m --masquerading -w --weight
		-x --u-threshold -y --l-threshold --tun-type --tun-port --tun-nocsum --tun-csum
		--tun-remcsum"
	local list_params="-n --numeric -c --connection --stats --rate --thresholds
		--persistent-conn --tun-info --exact --nosort --sort --timeout --daemon --json --health --drops"

	case $prev in
	-s | --scheduler)
		COMPREPLY=($(compgen -W "rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos" -- "$cur"))
		return
		;;
	--tun-type)
		COMPREPLY=($(compgen -W "ipip gue gre" -- "$cur"))
		return
		;;
	-b | --sched-flags)
		COMPREPLY=($(compgen -W "flag-1 flag-2 flag-3 sh-fallback sh-port mh-fallback mh-port" -- "$cur"))
		return
		;;
	--start-daemon | --stop-daemon)
		COMPREPLY=($(compgen -W "master backup" -- "$cur"))
		return
		;;
	--pe)
		COMPREPLY=($(compgen -W "sip" -- "$cur"))
		return
		;;
	--proto)
		COMPREPLY=($(compgen -W "tcp udp any" -- "$cur"))
		return
		;;
	-t | --tcp-service)
		COMPREPLY=($(compgen -W "$(_xvsadm_services -t)" -- "$cur"))
		return
		;;
	-u | --udp-service)
		COMPREPLY=($(compgen -W "$(_xvsadm_services -u)" -- "$cur"))
		return
		;;
	-r | --real-server | -w | --weight | -x | --u-threshold | -y | --l-threshold | \
		-p | --persistent | -M | --netmask | --tun-port | -f | --fwmark-service | \
		--sctp-service | --syncid | --mcast-interface | --mcast-group | --mcast-port | \
		--mcast-ttl | --sync-maxlen | --dst | --dport | --mark | --client)
		return # a value of the user's choosing
		;;
	esac

	# The command is the first word; what follows depends on it.
	if [[ $cword -eq 1 ]]; then
		COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		return
	fi
	local opts
	case ${words[1]} in
	-A | --add-service | -E | --edit-service) opts="$service_opts -6 --ipv6 $svc_params" ;;
	-D | --delete-service | -Z | --zero) opts="$service_opts -6 --ipv6" ;;
	-a | --add-server | -e | --edit-server) opts="$service_opts $dest_params" ;;
	-d | --delete-server) opts="$service_opts -r --real-server" ;;
	-L | -l | --list) opts="$service_opts $list_params" ;;
	-S | --save) opts="-n --numeric" ;;
	--start-daemon) opts="--mcast-interface --syncid --sync-maxlen --mcast-group --mcast-port --mcast-ttl" ;;
	--stop-daemon) opts="--syncid" ;;
	--status | --list-marks) opts="--json" ;;
	--add-mark | --del-mark) opts="--proto --dst --dport --mark" ;;
	--trace) opts="-t --tcp-service -u --udp-service --sctp-service --client --json" ;;
	*) return ;;
	esac
	[[ $cur == -* || -z $cur ]] && COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _xvsadm xvsadm
