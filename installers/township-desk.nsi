; NSIS installer for 乡镇医保服务窗口 (township-desk), 64-bit Windows.
;
; Build on Windows after PyInstaller (see installers/README.md):
;   makensis /DVERSION=0.1.0 installers\township-desk.nsi
; The installer packs the one-folder bundle dist\township-desk\ (override with
; /DBUNDLE_DIR=...) and writes dist\township-desk-setup-VERSION.exe (override with /DOUTFILE=...).
;
; On Linux CI the Windows bundle cannot be built (PyInstaller does not cross-build), so the
; test compiles this script against a stub folder holding a placeholder township-desk.exe:
;   makensis -DBUNDLE_DIR=/tmp/stub -DOUTFILE=/tmp/setup.exe installers/township-desk.nsi
; which checks the script itself (syntax, pages, Chinese strings, uninstaller) end to end.
;
; What it does:
;  * installs the program to "C:\Program Files\TownshipDesk" (per machine, needs admin);
;  * Start-menu shortcuts (the app, its self-test, the uninstaller) and a desktop shortcut;
;  * registers an uninstaller in 应用和功能 / Programs and Features;
;  * NEVER touches the data: the store, backups and logs live in each user's data folder
;    (%LOCALAPPDATA%\TownshipDesk\TownshipDesk, platformdirs), which the uninstaller leaves
;    in place — an uninstall or reinstall keeps every registration and payment.

Unicode true
ManifestDPIAware true
SetCompressor /SOLID lzma

!ifndef VERSION
  !define VERSION "0.1.0"
!endif
!ifndef BUNDLE_DIR
  !define BUNDLE_DIR "..\dist\township-desk"
!endif
!ifndef OUTFILE
  !define OUTFILE "..\dist\township-desk-setup-${VERSION}.exe"
!endif

!define APP_ID "TownshipDesk"
!define APP_NAME "乡镇医保服务窗口"
!define APP_EXE "township-desk.exe"
!define PUBLISHER "TownshipDesk"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP_ID}"

!include "MUI2.nsh"
!include "x64.nsh"
!include "LogicLib.nsh"

Name "${APP_NAME} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APP_ID}"
InstallDirRegKey HKLM "Software\${APP_ID}" "InstallDir"
RequestExecutionLevel admin
BrandingText "${APP_NAME} ${VERSION}"

; Signed builds: -DSIGN_SCRIPT=installers/sign.py (and -DPYTHON=…); the certificate comes
; from the environment (see sign.py). NSIS signs the uninstaller before packing it, and the
; installer last.
!ifdef SIGN_SCRIPT
  !ifndef PYTHON
    !define PYTHON "python"
  !endif
  !finalize '"${PYTHON}" "${SIGN_SCRIPT}" "%1"' = 0
  !uninstfinalize '"${PYTHON}" "${SIGN_SCRIPT}" "%1"' = 0
!endif

VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=2052 "ProductName" "${APP_NAME}"
VIAddVersionKey /LANG=2052 "FileDescription" "${APP_NAME} 安装程序"
VIAddVersionKey /LANG=2052 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=2052 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=2052 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=2052 "LegalCopyright" "Apache-2.0"

!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\${APP_EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "启动${APP_NAME}"
!define MUI_WELCOMEPAGE_TEXT "将在本机安装${APP_NAME} ${VERSION}。$\r$\n$\r$\n业务数据（参保、缴费记录、备份和日志）保存在每个 Windows 用户自己的数据文件夹中，安装、升级或卸载都不会删除这些数据。$\r$\n$\r$\n点击“下一步”继续。"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH

!define MUI_UNCONFIRMPAGE_TEXT_TOP "将从本机卸载${APP_NAME}程序。业务数据和备份保存在用户数据文件夹（%LOCALAPPDATA%\${APP_ID}）中，不会被删除。"
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "SimpChinese"

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "${APP_NAME}需要64位Windows（Windows 10或更高版本）。"
    Abort
  ${EndIf}
  SetRegView 64
FunctionEnd

Section "程序文件" SecMain
  SectionIn RO
  SetShellVarContext all
  SetOutPath "$INSTDIR"
  ; an upgrade replaces the program files only (never the user's data folder)
  RMDir /r "$INSTDIR\_internal"
  File /r "${BUNDLE_DIR}\*.*"

  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKLM "Software\${APP_ID}" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\${APP_EXE}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoRepair" 1

  CreateDirectory "$SMPROGRAMS\${APP_NAME}"
  CreateShortCut "$SMPROGRAMS\${APP_NAME}\${APP_NAME}.lnk" "$INSTDIR\${APP_EXE}" "" "$INSTDIR\${APP_EXE}" 0
  CreateShortCut "$SMPROGRAMS\${APP_NAME}\自检.lnk" "$INSTDIR\${APP_EXE}" "--self-test" "$INSTDIR\${APP_EXE}" 0
  CreateShortCut "$SMPROGRAMS\${APP_NAME}\卸载${APP_NAME}.lnk" "$INSTDIR\uninstall.exe"
  CreateShortCut "$DESKTOP\${APP_NAME}.lnk" "$INSTDIR\${APP_EXE}" "" "$INSTDIR\${APP_EXE}" 0
SectionEnd

Function un.onInit
  SetRegView 64
FunctionEnd

Section "Uninstall"
  SetShellVarContext all
  ; program files only: the data folder (%LOCALAPPDATA%\TownshipDesk) is deliberately kept
  Delete "$SMPROGRAMS\${APP_NAME}\${APP_NAME}.lnk"
  Delete "$SMPROGRAMS\${APP_NAME}\自检.lnk"
  Delete "$SMPROGRAMS\${APP_NAME}\卸载${APP_NAME}.lnk"
  RMDir "$SMPROGRAMS\${APP_NAME}"
  Delete "$DESKTOP\${APP_NAME}.lnk"
  ${If} ${FileExists} "$INSTDIR\${APP_EXE}"
    RMDir /r "$INSTDIR\_internal"
    Delete "$INSTDIR\${APP_EXE}"
    Delete "$INSTDIR\township-desk-console.exe"
  ${EndIf}
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINSTALL_KEY}"
  DeleteRegKey HKLM "Software\${APP_ID}"
SectionEnd
