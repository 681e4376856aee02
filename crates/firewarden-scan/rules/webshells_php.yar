// Firewarden built-in pack: PHP webshells. Written for Firewarden; each rule names the family
// or behaviour, and `severity` / `attack` feed the finding. Strings are chosen so that benign
// CMS code (WordPress, phpMyAdmin, MediaWiki, DokuWiki, Roundcube) does not carry them.

rule php_eval_request_oneliner
{
    meta:
        description = "PHP one-liner that evaluates request input (China Chopper / AntSword / Cknife client)"
        severity = "critical"
        attack = "T1505.003"
    strings:
        $a = /(eval|assert)\s*\(\s*(\$_(POST|GET|REQUEST|COOKIE|SERVER)\s*\[|stripslashes\s*\(\s*\$_(POST|GET|REQUEST)|base64_decode\s*\(\s*\$_(POST|GET|REQUEST|COOKIE))/ nocase
        $b = /@\s*\$_(POST|GET|REQUEST|COOKIE)\s*\[[^\]]{1,40}\]\s*\(\s*\$_(POST|GET|REQUEST|COOKIE)/ nocase
    condition:
        filesize < 2MB and any of them
}

rule php_request_to_shell
{
    meta:
        description = "PHP passes request input straight to a command-execution function"
        severity = "critical"
        attack = "T1505.003"
    strings:
        $a = /\b(system|passthru|shell_exec|exec|popen|proc_open|pcntl_exec)\s*\(\s*(\$_(GET|POST|REQUEST|COOKIE)\s*\[|base64_decode\s*\(\s*\$_(GET|POST|REQUEST|COOKIE)|stripslashes\s*\(\s*\$_(GET|POST|REQUEST))/ nocase
        $b = /(=|\(|echo|print|return)\s*`\s*\$_(GET|POST|REQUEST|COOKIE)\s*\[[^\]]{1,40}\]\s*`/ nocase
    condition:
        filesize < 2MB and any of them
}

rule php_preg_replace_e_request
{
    meta:
        description = "preg_replace with the /e modifier (code execution) fed by request input"
        severity = "critical"
        attack = "T1505.003"
    strings:
        $a = /preg_replace\s*\(\s*["'][^"']{0,64}\/e[a-z]*["']\s*,\s*[^,]{0,80}\$_(GET|POST|REQUEST|COOKIE)/ nocase
    condition:
        filesize < 2MB and $a
}

rule php_obfuscated_eval_chain
{
    meta:
        description = "eval() of a payload unwrapped by a chain of decoders (gzinflate/base64/rot13/strrev)"
        severity = "critical"
        attack = "T1505.003 T1027"
    strings:
        $a = /eval\s*\(\s*(gzinflate|gzuncompress|gzdecode|str_rot13|base64_decode|strrev|convert_uudecode|hex2bin)\s*\(\s*(gzinflate|gzuncompress|gzdecode|str_rot13|base64_decode|strrev|convert_uudecode|hex2bin)\s*\(/ nocase
        $b = /eval\s*\(\s*base64_decode\s*\(\s*["'][A-Za-z0-9+\/=]{200,}/ nocase
    condition:
        filesize < 4MB and any of them
}

rule php_webshell_families
{
    meta:
        description = "Known PHP webshell family (c99, r57, WSO, b374k, Alfa, IndoXploit, P.A.S., FilesMan, mini shells)"
        severity = "critical"
        attack = "T1505.003"
    strings:
        $c99a = "c99shell" nocase
        $c99b = "c99sh_surl" nocase
        $r57 = "r57shell" nocase
        $wso1 = "WSO " ascii
        $wso2 = "FilesMan" ascii
        $wso3 = "wso_version" nocase
        $b374k = "b374k" nocase
        $alfa1 = "ALFA_DATA" ascii
        $alfa2 = "AlfaTeam" nocase
        $indo = "IndoXploit" nocase
        $pas = "P.A.S. v" ascii
        $sym = "Symlink_Sa" nocase
        $mini = "Mini Shell" nocase
        $fm1 = "$default_action = 'FilesMan'" ascii
        $fm2 = "actionFilesMan" ascii
        $leaf = "Leaf PHPMailer" nocase
        $uname = "php_uname()" ascii
        $safe = "safe_mode" ascii
    condition:
        filesize < 4MB and (
            any of ($c99*, $r57, $b374k, $alfa*, $indo, $pas, $sym, $fm*, $wso3) or
            ($wso1 and $wso2) or
            ($mini and $uname) or
            ($leaf and $safe)
        )
}

rule php_weevely
{
    meta:
        description = "Weevely PHP agent (string-split key, str_replace-assembled create_function)"
        severity = "critical"
        attack = "T1505.003 T1027"
    strings:
        $a = /\$[a-zA-Z0-9_]{1,8}\s*=\s*str_replace\s*\(\s*["'][a-zA-Z0-9_]{1,8}["']\s*,\s*["']["']\s*,\s*["'][a-zA-Z0-9_]{0,20}c[a-zA-Z0-9_]{0,6}r[a-zA-Z0-9_]{0,6}e[a-zA-Z0-9_]{0,6}a[a-zA-Z0-9_]{0,6}t[a-zA-Z0-9_]{0,6}e/
        $b = "$kh=\"" ascii
        $c = "$kf=\"" ascii
        $d = "@eval(@gzuncompress(@x(@base64_decode(" ascii
    condition:
        filesize < 1MB and ($a or ($b and $c) or $d)
}

rule php_behinder_godzilla
{
    meta:
        description = "Behinder (Rebeyond) / Godzilla PHP shell: AES or XOR-decrypted request body evaluated"
        severity = "critical"
        attack = "T1505.003 T1027"
    strings:
        $beh1 = "e45e329feb5d925b" ascii
        $beh2 = /openssl_decrypt\s*\([^;]{0,80}AES128/ nocase
        $in = "php://input" ascii
        $sess = "$_SESSION['k']" ascii
        $god1 = "$pass='pass'" ascii
        $god2 = "$payloadName='payload'" ascii
        $god3 = /\$key\s*=\s*'[0-9a-f]{16}'\s*;/
        $xor = /\$D\[\$i\]\s*=\s*\$D\[\$i\]\s*\^\s*\$K\[\$i\s*\+\s*1\s*&\s*15\]/
        $eval = /(eval|assert|create_function)\s*\(/ nocase
    condition:
        filesize < 1MB and (
            $beh1 or
            ($beh2 and $in and $eval) or
            ($sess and $in and $eval) or
            $god2 or ($god1 and $god3) or
            $xor
        )
}

rule php_upload_backdoor
{
    meta:
        description = "Bare uploader: writes an uploaded file to a request-chosen name with no checks"
        severity = "high"
        attack = "T1505.003 T1105"
    strings:
        $a = /move_uploaded_file\s*\(\s*\$_FILES\s*\[[^\]]{1,40}\]\s*\[\s*['"]tmp_name['"]\s*\]\s*,\s*\$_(GET|POST|REQUEST)\s*\[/ nocase
        $b = /file_put_contents\s*\(\s*\$_(GET|POST|REQUEST)\s*\[[^\]]{1,40}\]\s*,\s*(base64_decode\s*\()?\s*\$_(GET|POST|REQUEST)/ nocase
        $c = /fwrite\s*\(\s*fopen\s*\(\s*\$_(GET|POST|REQUEST)\s*\[[^\]]{1,40}\]\s*,\s*['"]w/ nocase
    condition:
        filesize < 2MB and any of them
}

rule php_dynamic_function_from_request
{
    meta:
        description = "Calls a function whose name is taken from the request ($_GET['f']($_GET['a']))"
        severity = "critical"
        attack = "T1505.003"
    strings:
        $a = /\$_(GET|POST|REQUEST|COOKIE)\s*\[\s*['"]?[a-zA-Z0-9_]{1,20}['"]?\s*\]\s*\(\s*\$_(GET|POST|REQUEST|COOKIE)\s*\[/ nocase
        $b = /(array_map|call_user_func|call_user_func_array|register_shutdown_function|register_tick_function)\s*\(\s*\$_(GET|POST|REQUEST|COOKIE)\s*\[/ nocase
        $d = /(array_filter|array_walk|usort|uasort|uksort)\s*\([^,;]{1,80},\s*\$_(GET|POST|REQUEST|COOKIE)\s*\[/ nocase
        $c = /create_function\s*\(\s*['"]['"]\s*,\s*\$_(GET|POST|REQUEST|COOKIE)/ nocase
    condition:
        filesize < 2MB and any of them
}

rule php_in_image
{
    meta:
        description = "Image file that carries PHP code (an upload disguised as a picture)"
        severity = "high"
        attack = "T1505.003 T1036.008"
    strings:
        $php = "<?php" nocase
        $eval = /(eval|assert|system|passthru|shell_exec|base64_decode)\s*\(/ nocase
    condition:
        (uint32be(0) == 0x89504e47 or uint16be(0) == 0xffd8 or uint32be(0) == 0x47494638) and $php and $eval
}
