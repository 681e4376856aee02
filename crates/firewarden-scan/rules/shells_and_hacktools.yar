// Firewarden built-in pack: reverse shells and attacker tooling.

rule reverse_shell_oneliner
{
    meta:
        description = "Reverse-shell one-liner (bash /dev/tcp, nc -e, socat exec, python/perl/php/ruby socket + shell)"
        severity = "critical"
        attack = "T1059.004 T1071"
    strings:
        $bash1 = /(ba)?sh\s+-i\s*[>&]{1,3}\s*\/dev\/(tcp|udp)\/[0-9a-zA-Z.\-]{3,64}\/[0-9]{1,5}/
        $bash2 = /exec\s+[0-9]{1,3}<>\s*\/dev\/tcp\//
        $bash3 = /0<&[0-9]{1,3}\s*;?\s*exec\s+[0-9]{1,3}<>\s*\/dev\/tcp/
        $nc1 = /\bnc(at|\.traditional)?\s+(-[a-z]{1,4}\s+)*-e\s+\/bin\/(ba)?sh/
        $nc2 = /mkfifo\s+\/tmp\/[a-z0-9_.]{1,16}\s*;\s*(cat|nc)\s+[^\n]{0,60}\|\s*\/bin\/(ba)?sh\s+-i/
        $nc3 = /rm\s+(-f\s+)?\/tmp\/f\s*;\s*mkfifo\s+\/tmp\/f/
        $socat = /socat\s+[^\n]{0,60}exec:['"]?(\/bin\/)?(ba)?sh/ nocase
        $py = /socket\.socket\s*\([^)]{0,60}\)\s*;[^\n]{0,200}(os\.dup2|pty\.spawn)/
        $pl = /perl\s+-e\s+['"]use\s+Socket;[^\n]{0,300}exec\s*\(\s*["']\/bin\/(ba)?sh/
        $php = /fsockopen\s*\([^)]{0,80}\)\s*;[^\n]{0,200}(exec|shell_exec|system|passthru|proc_open|popen)\s*\(\s*["']\/bin\/(ba)?sh\s+-i/
        $rb = /ruby\s+-rsocket\s+-e/
    condition:
        filesize < 8MB and any of them
}

rule tunnel_and_proxy_tools
{
    meta:
        description = "Attacker tunnelling/proxy tool (chisel, frp, gost, EarthWorm/Termite, ligolo, iox, nps)"
        severity = "high"
        attack = "T1090 T1572"
    strings:
        $chisel1 = "jpillora/chisel" ascii
        $chisel2 = "chisel-v3" ascii
        $frp1 = "fatedier/frp" ascii
        $frp2 = "server_addr" ascii
        $frp3 = "[common]" ascii
        $frp4 = "token =" ascii
        $gost = "ginuerzh/gost" ascii
        $gost2 = "go-gost/gost" ascii
        $ew1 = "ssocksd" ascii
        $ew2 = "rcsocks" ascii
        $ew3 = "lcx_tran" ascii
        $lig = "nicocha30/ligolo" ascii
        $iox = "EddieIvan01/iox" ascii
        $nps = "ehang.io/nps" ascii
    condition:
        filesize < 64MB and (
            any of ($chisel*, $frp1, $gost, $gost2, $lig, $iox, $nps) or
            2 of ($ew*) or
            ($frp3 and $frp2 and $frp4)
        )
}

rule recon_and_credential_tools
{
    meta:
        description = "Attacker reconnaissance or credential tool (linPEAS, pspy, fscan, mimipenguin, LaZagne, hydra, SharpHound)"
        severity = "high"
        attack = "T1082 T1003 T1110"
    strings:
        $linpeas1 = "linpeas" ascii nocase
        $linpeas2 = "PEASS-ng" ascii
        $pspy = "DominicBreuker/pspy" ascii
        $fscan1 = "shadow1ng/fscan" ascii
        $fscan2 = "fscan version" ascii nocase
        $mimip = "mimipenguin" ascii nocase
        $laz = "LaZagne" ascii
        $hydra = "van Hauser / THC" ascii
        $sharp = "SharpHound" ascii
        $les = "linux-exploit-suggester" ascii nocase
        $les2 = "mzet-/linux-exploit-suggester" ascii
    condition:
        filesize < 64MB and (
            $linpeas2 or ($linpeas1 and filesize < 2MB and uint16(0) == 0x2123) or
            any of ($pspy, $fscan1, $fscan2, $mimip, $laz, $hydra, $sharp, $les2) or
            ($les and uint16(0) == 0x2123)
        )
}

rule privilege_escalation_exploit
{
    meta:
        description = "Local privilege-escalation exploit (Dirty COW, Dirty Pipe, PwnKit, sudo Baron Samedit, overlayfs)"
        severity = "critical"
        attack = "T1068"
    strings:
        $cow1 = "/proc/self/mem" ascii
        $cow2 = "madvise" ascii
        $cow3 = "MADV_DONTNEED" ascii
        $pipe1 = "splice" ascii
        $pipe2 = "PIPE_BUF_FLAG_CAN_MERGE" ascii
        $pwn1 = "GCONV_PATH=." ascii
        $pwn2 = "pkexec" ascii
        $pwn3 = "CHARSET=" ascii
        $samedit = "sudoedit -s" ascii
        $ovl = "CVE-2021-3493" ascii
        $cve = /CVE-20(16-5195|22-0847|21-4034|21-3156|21-3493|23-2640|23-0386|24-1086)/
    condition:
        filesize < 8MB and (
            ($cow1 and $cow2 and $cow3) or
            ($pipe1 and $pipe2) or
            ($pwn1 and $pwn2 and $pwn3) or
            $samedit or $ovl or
            ($cve and (any of ($cow*) or any of ($pipe*) or any of ($pwn*)))
        )
}
