; Inno Setup 6 script for P20 WIN Desk on Windows desktops (per-machine, Program Files).
; Built by installer/build_windows.ps1, which passes the version read from pyproject.toml:
;   iscc /DAppVersion=0.1.0 /DSourceDir=..\dist\p20win installer\p20win.iss
#ifndef AppVersion
  #error Pass /DAppVersion=X.Y.Z (build_windows.ps1 reads it from pyproject.toml)
#endif
#ifndef SourceDir
  #define SourceDir "..\dist\p20win"
#endif

[Setup]
; The AppId never changes: it is what makes a newer setup upgrade the installed copy in place.
AppId={{7B0E3D2A-5C1F-4E59-9F1A-20C0A7D1B4E2}
AppName=P20 WIN Desk
AppVersion={#AppVersion}
AppVerName=P20 WIN Desk {#AppVersion}
AppPublisher=State of Connecticut, Office of Policy and Management
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\P20 WIN Desk
DefaultGroupName=P20 WIN Desk
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=P20WIN-Desk-{#AppVersion}-setup
OutputDir=..\dist
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
SetupIconFile=..\resources\icons\p20win.ico
UninstallDisplayIcon={app}\P20WIN Desk.exe
UninstallDisplayName=P20 WIN Desk {#AppVersion}
ChangesAssociations=yes
CloseApplications=yes

[Files]
; Replace the whole program folder on upgrade; user data lives elsewhere (%LOCALAPPDATA%\P20WIN Desk).
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; Files a previous version shipped but this one does not must not linger beside the new ones.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{group}\P20 WIN Desk"; Filename: "{app}\P20WIN Desk.exe"
Name: "{group}\Uninstall P20 WIN Desk"; Filename: "{uninstallexe}"

[Registry]
; Sealed transfer packages (.p20pkg) open in the application's import preview.
Root: HKA; Subkey: "Software\Classes\.p20pkg"; ValueType: string; ValueName: ""; ValueData: "P20WINDesk.Package"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\P20WINDesk.Package"; ValueType: string; ValueName: ""; ValueData: "P20 WIN sealed package"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\P20WINDesk.Package\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\P20WIN Desk.exe,0"
Root: HKA; Subkey: "Software\Classes\P20WINDesk.Package\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\P20WIN Desk.exe"" ""%1"""

[UninstallDelete]
; Only what the installer itself put in {app}. The encrypted store, its key file, backups and the
; user's settings live under %LOCALAPPDATA% and the registry's user hive: uninstall never touches them.
Type: dirifempty; Name: "{app}"
