; Inno Setup script: the Windows installer of Infusion Desk, made from the PyInstaller folder.
;
; Built on Windows, not on Linux (see installer/README.md, "Windows"):
;   1. build the folder, in PowerShell at the top of the checkout:
;        py -3.11 -m venv build\venv
;        build\venv\Scripts\python -m pip install pyinstaller==6.22.3 .
;        build\venv\Scripts\pyinstaller --noconfirm --clean --distpath dist --workpath build\pyinstaller installer\infusion-desk.spec
;        dist\infusion-desk\infusion-desk.exe --self-test
;   2. the setup program's icon, from the PNG (Pillow is in the build environment):
;        build\venv\Scripts\python -c "from PIL import Image; Image.open('resources/icons/infusion-desk.png').save('build/infusion-desk.ico', sizes=[(16, 16), (32, 32), (48, 48), (256, 256)])"
;   3. compile this script (Inno Setup 6):
;        "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 installer\infusion-desk.iss
;      which writes dist\InfusionDesk-0.1.0-setup.exe.
;
; The folder holds two launchers: infusion-desk-gui.exe (windowed; the shortcuts open it) and
; infusion-desk.exe (console; the command line and --self-test).
; The clinic's database is NOT under the program folder: it is in the user's data folder
; (%LOCALAPPDATA%\InfusionDesk\InfusionDesk) or on the clinic's PostgreSQL server, and
; uninstalling leaves it alone.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Infusion Desk"
#define AppPublisher "Infusion Desk contributors"
#define SourceDir "..\dist\infusion-desk"

[Setup]
; Never change AppId: upgrades find the earlier installation by it.
AppId={{2B6BE40D-887C-4F4E-BFBF-A95B41BA15AE}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppPublisher}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
#if FileExists(AddBackslash(SourcePath) + "..\LICENSE")
LicenseFile=..\LICENSE
#endif
OutputDir=..\dist
OutputBaseFilename=InfusionDesk-{#AppVersion}-setup
#if FileExists(AddBackslash(SourcePath) + "..\build\infusion-desk.ico")
SetupIconFile=..\build\infusion-desk.ico
#endif
UninstallDisplayIcon={app}\infusion-desk-gui.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; per-machine by default; the user may choose an install for themselves only (no admin rights)
PrivilegesRequired=admin
PrivilegesRequiredOverridesAllowed=dialog
MinVersion=10.0
; a running copy is closed before files are replaced
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; an upgrade must not keep modules or migrations the new version no longer ships
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\infusion-desk-gui.exe"; WorkingDir: "{app}"
Name: "{group}\{#AppName} self-test"; Filename: "{cmd}"; Parameters: "/k ""{app}\infusion-desk.exe"" --self-test"; WorkingDir: "{app}"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\infusion-desk-gui.exe"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
; the same check the build ran, on the clinic's own computer: offered, not forced (about 10 seconds)
Filename: "{cmd}"; Parameters: "/k ""{app}\infusion-desk.exe"" --self-test"; Description: "Run the self-test now (a console window shows each step)"; Flags: postinstall unchecked nowait skipifsilent
Filename: "{app}\infusion-desk-gui.exe"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
