// Firewarden built-in pack: JSP and ASP/ASPX webshells and tunnels.

rule jsp_runtime_exec_request
{
    meta:
        description = "JSP runs a command taken from a request parameter (Runtime.exec / ProcessBuilder)"
        severity = "critical"
        attack = "T1505.003"
    strings:
        $exec1 = /Runtime\s*\.\s*getRuntime\s*\(\s*\)\s*\.\s*exec\s*\(/
        $exec2 = /new\s+ProcessBuilder\s*\(/
        $req = /request\s*\.\s*getParameter\s*\(/
        $jsp1 = "<%" ascii
        $jsp2 = "<jsp:" ascii
    condition:
        filesize < 2MB and any of ($jsp*) and any of ($exec*) and $req
}

rule jsp_classloader_shell
{
    meta:
        description = "JSP that defines a class from request data (Behinder/Godzilla/AntSword JSP, memory-shell loaders)"
        severity = "critical"
        attack = "T1505.003 T1620"
    strings:
        $def = "defineClass" ascii
        $cl = "ClassLoader" ascii
        $b64a = "BASE64Decoder" ascii
        $b64b = "Base64.getDecoder" ascii
        $b64c = "base64Decode" ascii
        $aes = /Cipher\s*\.\s*getInstance\s*\(\s*"AES/
        $body = "getReader()" ascii
        $param = "getParameter(" ascii
        $sess = "session.putValue(\"u\"" ascii
        $u = "\"u\"" ascii
    condition:
        filesize < 1MB and $def and $cl and (any of ($b64*) or $aes) and ($body or $param or $sess or $u)
}

rule jsp_memory_shell_injector
{
    meta:
        description = "JSP that registers a servlet/filter/listener at run time (Tomcat memory shell)"
        severity = "critical"
        attack = "T1505.003 T1620"
    strings:
        $a = "addFilterMap" ascii
        $b = "addServletMappingDecoded" ascii
        $c = "addApplicationEventListener" ascii
        $d = "StandardContext" ascii
        $e = "FilterDef" ascii
        $jsp = "<%" ascii
    condition:
        filesize < 1MB and $jsp and $d and ($a or $b or $c) and ($e or $b or $c)
}

rule regeorg_tunnel
{
    meta:
        description = "reGeorg / Neo-reGeorg HTTP tunnel (SOCKS over web requests)"
        severity = "critical"
        attack = "T1090.001 T1505.003"
    strings:
        $a = "Georg says, 'All seems fine'" ascii
        $b = "X-STATUS" ascii
        $c = "X-ERROR" ascii
        $d = "X-CMD" ascii
        $e = "Neo-reGeorg" ascii nocase
        $f = "FORWARD" ascii
        $g = "DISCONNECT" ascii
    condition:
        filesize < 1MB and ($a or $e or ($b and $c and $d and $f and $g))
}

rule aspx_eval_request
{
    meta:
        description = "ASP/ASPX that evaluates or executes request input (China Chopper ASPX and friends)"
        severity = "critical"
        attack = "T1505.003"
    strings:
        $a = /eval\s*\(\s*Request(\.Item)?\s*[\[\(]/ nocase
        $b = /Execute\s*\(?\s*Request(\.Item)?\s*[\[\(]/ nocase
        $c = /ExecuteGlobal\s*\(?\s*Request/ nocase
        $d = /Page\s+Language\s*=\s*"?Jscript"?[^>]{0,80}%>\s*<%\s*eval/ nocase
    condition:
        filesize < 2MB and any of them
}

rule aspx_process_start_request
{
    meta:
        description = "ASPX starts cmd.exe/powershell with arguments from the request"
        severity = "critical"
        attack = "T1505.003"
    strings:
        $p1 = "ProcessStartInfo" ascii nocase
        $p2 = "Process.Start" ascii nocase
        $cmd1 = "cmd.exe" ascii nocase
        $cmd2 = "powershell" ascii nocase
        $req1 = /Request\s*(\.Form|\.QueryString|\.Item|\.Params)?\s*\[/ nocase
        $asp = "<%@" ascii
    condition:
        filesize < 2MB and $asp and any of ($p*) and any of ($cmd*) and $req1
}

rule aspx_assembly_load_request
{
    meta:
        description = "ASPX that loads an assembly from request data (Behinder/Godzilla ASPX)"
        severity = "critical"
        attack = "T1505.003 T1620"
    strings:
        $a = /Assembly\s*\.\s*Load\s*\(/ nocase
        $b = "Request.BinaryRead" ascii nocase
        $c = "FromBase64String" ascii nocase
        $d = "RijndaelManaged" ascii nocase
        $e = "CreateInstance" ascii nocase
        $f = /Request\s*(\.Form)?\s*\[/ nocase
    condition:
        filesize < 1MB and $a and $e and ($b or (($c or $d) and $f))
}
