//! Every user-facing message, in English and Japanese, in one table.
//!
//! The language comes from `--lang`, else from `LC_ALL`, `LC_MESSAGES`, `LANG` (the first one
//! set; `ja…` means Japanese), else from the system locale. Templates use `{0}`, `{1}`, … for
//! their arguments; both languages of a message take the same arguments (checked by a test).
//! Errors from the core library are translated here too, variant by variant.

use std::fmt::Display;
use std::sync::OnceLock;

use soshiki_core::error::{
    DecodeError, DecryptError, EncryptError, ForwardError, KeyFileError, VerifyError,
};

/// A message language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Japanese.
    Ja,
}

static LANG: OnceLock<Lang> = OnceLock::new();

/// Set the language for this process (first call wins).
pub fn set_lang(lang: Lang) {
    let _ = LANG.set(lang);
}

/// The current language (English until set).
pub fn lang() -> Lang {
    LANG.get().copied().unwrap_or(Lang::En)
}

/// A revocation-list error, translated.
pub fn trust_error(e: &soshiki_client::trust::TrustError) -> String {
    use soshiki_client::trust::TrustError as T;
    use soshiki_core::error::PartnerListError as P;
    use soshiki_core::error::RevocationError as R;
    match e {
        T::NoRevocationList { org } => tr(M::TrNoList, &[org]),
        T::RevocationListWithheld { org, seen } => tr(M::TrWithheld, &[org, seen]),
        T::Decode(d) => tr(M::TrMalformed, &[&decode_error(d)]),
        T::Revocation(R::Signature) => tr(M::TrSignature, &[]),
        T::Revocation(R::Rollback { found, seen }) => tr(M::TrRollback, &[found, seen]),
        T::Revocation(R::Stale { next_update, now }) => tr(M::TrStale, &[next_update, now]),
        T::Revocation(R::Future { issued, now }) => tr(M::TrFuture, &[issued, now]),
        T::Revocation(R::OtherOrganization) => tr(M::TrOtherOrg, &[]),
        T::Revocation(R::Revoked { member, at }) => tr(M::TrRevoked, &[member, at]),
        T::PartnerListWithheld { org, seen } => tr(M::TrPartnersWithheld, &[org, seen]),
        T::Partners(P::Signature) => tr(M::TrPartnersSignature, &[]),
        T::Partners(P::Rollback { found, seen }) => tr(M::TrPartnersRollback, &[found, seen]),
        T::Partners(P::Future { issued, now }) => tr(M::TrPartnersFuture, &[issued, now]),
        other => other.to_string(),
    }
}

/// The name of a CSV file's encoding.
pub fn csv_encoding(e: soshiki_client::csv_split::CsvEncoding) -> String {
    use soshiki_client::csv_split::CsvEncoding as E;
    tr(
        match e {
            E::Cp932 => M::CsvEncCp932,
            E::Utf8Bom => M::CsvEncUtf8Bom,
            E::Utf8 => M::CsvEncUtf8,
        },
        &[],
    )
}

/// Why a CSV file cannot be split, translated.
pub fn csv_error(e: &soshiki_client::csv_split::CsvError) -> String {
    use soshiki_client::csv_split::CsvError as E;
    match e {
        E::Utf16 { encoding, bom } => tr(M::CsvUtf16, &[encoding, bom]),
        E::Utf16NoBom { encoding } => tr(M::CsvUtf16NoBom, &[encoding]),
        E::Binary { offset } => tr(M::CsvBinary, &[offset]),
        E::BadUtf8AfterBom {
            line,
            offset,
            bytes,
        } => tr(M::CsvBadUtf8AfterBom, &[line, bytes, offset]),
        E::UnknownEncoding {
            line,
            offset,
            bytes,
        } => tr(M::CsvUnknownEncoding, &[line, bytes, offset]),
        E::Empty => tr(M::CsvEmpty, &[]),
        E::NoDataRows => tr(M::CsvNoDataRows, &[]),
        E::UnterminatedQuote { line } => tr(M::CsvUnterminatedQuote, &[line]),
        E::MissingField {
            line,
            column,
            fields,
        } => tr(M::CsvMissingField, &[line, column, fields]),
        E::NoSuchColumn { column, available } => tr(M::CsvNoSuchColumn, &[column, available]),
        E::AmbiguousColumn { column, numbers } => tr(M::CsvAmbiguousColumn, &[column, numbers]),
        E::UnnamedColumn { number } => tr(M::CsvUnnamedColumn, &[number]),
        E::ColumnNameTooLong { number, limit } => tr(M::CsvColumnNameTooLong, &[number, limit]),
        E::ValueTooLong { line, limit } => tr(M::CsvValueTooLong, &[line, limit]),
        E::TooManyParts { limit } => tr(M::CsvTooManyParts, &[limit]),
    }
}

/// The language from the environment: `LC_ALL`, `LC_MESSAGES`, `LANG`, then the system locale.
pub fn detect() -> Lang {
    for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                return from_locale(&v);
            }
        }
    }
    sys_locale::get_locale().map_or(Lang::En, |l| from_locale(&l))
}

fn from_locale(l: &str) -> Lang {
    if l.to_ascii_lowercase().starts_with("ja") {
        Lang::Ja
    } else {
        Lang::En
    }
}

macro_rules! messages {
    ($($id:ident => $en:literal, $ja:literal;)*) => {
        /// A message of the table.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum M { $($id,)* }

        impl M {
            /// Every message (for the table's own tests).
            #[cfg(test)]
            pub const ALL: &'static [M] = &[$(M::$id,)*];

            /// The template in a language.
            pub fn template(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((M::$id, Lang::En) => $en, (M::$id, Lang::Ja) => $ja,)*
                }
            }
        }
    };
}

messages! {
    // General
    ErrorPrefix => "soshiki: error: {0}", "soshiki: エラー: {0}";
    NoneWord => "none", "なし";
    TempFileFailed => "cannot create a temporary file: {0}", "一時ファイルを作成できません: {0}";
    // Files
    WhatEnvelope => "envelope file", "封筒ファイル";
    WhatKeyFile => "key file", "鍵ファイル";
    WhatIdentity => "identity file", "識別ファイル";
    WhatOrganization => "organization record", "組織レコード";
    WhatPart => "part file", "パートのファイル";
    FileMissing => "{0}: no such {1}", "{0}: {1}が見つかりません";
    FileUnreadable => "{0}: cannot read the {1}: {2}", "{0}: {1}を読めません: {2}";
    FileTooLarge => "{0}: too large to be a {1}", "{0}: {1}としては大きすぎます";
    NotAFile => "{0}: not a regular file (expected a {1})", "{0}: 通常のファイルではありません({1}が必要です)";
    BadArmor => "{0}: damaged ASCII armor: {1}", "{0}: ASCIIアーマーが壊れています: {1}";
    WrongArmorKind => "{0}: the armor holds {1}, expected {2}", "{0}: アーマーの中身は {1} で、{2} ではありません";
    OutputExists => "{0} already exists (use --force to overwrite)", "{0} は既に存在します(上書きするには --force)";
    OutputNameClash => "{0}: choose a name whose extension is not .{1}", "{0}: 拡張子が .{1} 以外の名前を指定してください";
    OutputNotDirectory => "{0} is a file; with several recipients the output must be a directory", "{0} はファイルです。受信者が複数のときは出力先にディレクトリを指定してください";
    CannotWriteIn => "cannot write in {0}: {1}", "{0} に書き込めません: {1}";
    WriteFailed => "{0}: write failed: {1}", "{0}: 書き込みに失敗しました: {1}";
    // Envelopes
    NotAnEnvelope => "{0}: not a Soshiki envelope", "{0}: Soshiki の封筒ではありません";
    EnvelopeTruncated => "{0}: the envelope is truncated (incomplete copy?): {1}", "{0}: 封筒が途中で切れています(コピーが不完全?): {1}";
    HeaderTooLarge => "{0}: the header claims more than {1} bytes (damaged or malicious file)", "{0}: ヘッダ長が上限 {1} バイトを超えています(破損または不正なファイル)";
    EnvelopeDamaged => "{0}: damaged envelope: {1}", "{0}: 封筒が壊れています: {1}";
    EnvelopeInvalid => "{0}: verification failed: {1}", "{0}: 検証に失敗しました: {1}";
    BodyMissing => "part {0} is not in this copy of {1} (it was forwarded without it)", "パート {0} は {1} に含まれていません(このパートなしで転送されました)";
    PartOutOfRange => "part {0} does not exist: {1} has {2} part(s), numbered from 0", "パート {0} はありません: {1} のパートは {2} 個です(0 から数えます)";
    // Keys and identities
    KeyFileInvalid => "{0}: not a usable key file: {1}", "{0}: 使用できる鍵ファイルではありません: {1}";
    WrongKeyKind => "{0}: wrong kind of key ({1}); a {2} key is needed here", "{0}: これは{1}の鍵です。ここでは{2}の鍵が必要です";
    WrongPassphrase => "{0}: wrong passphrase (or the key file is damaged)", "{0}: パスフレーズが違います(または鍵ファイルが壊れています)";
    IdentityInvalid => "{0}: not a valid identity file: {1}", "{0}: 有効な識別ファイルではありません: {1}";
    IdentityNotValid => "{0}: the certificate of {1} is not valid now (expired, not yet valid, or not signed by its organization)", "{0}: {1} の証明書は現在有効ではありません(期限切れ、有効期間前、または組織の署名が不正)";
    OrganizationInvalid => "{0}: not a valid organization record: {1}", "{0}: 有効な組織レコードではありません: {1}";
    OwnCertificateInvalid => "{0}: your certificate ({1}) is not valid now; ask your organization for a new one", "{0}: あなたの証明書({1})は現在有効ではありません。組織に再発行を依頼してください";
    SuiteMismatch => "{0} uses suite {1}, but {2} uses {3}: they cannot be used together", "{0} の暗号スイートは {1}、{2} は {3} です。組み合わせて使えません";
    KindMember => "member", "メンバー";
    KindOrganization => "organization", "組織";
    // Passphrases
    PromptPassphrase => "Passphrase for {0}: ", "{0} のパスフレーズ: ";
    PromptNewPassphrase => "New passphrase for {0}: ", "{0} の新しいパスフレーズ: ";
    PromptRepeatPassphrase => "Repeat the passphrase: ", "もう一度入力してください: ";
    PassphraseMismatch => "the two passphrases differ", "二つのパスフレーズが一致しません";
    PassphraseEmpty => "{0}: an empty passphrase is not allowed for a new key", "{0}: 新しい鍵に空のパスフレーズは使えません";
    PassphraseFileUnreadable => "{0}: cannot read the passphrase file: {1}", "{0}: パスフレーズファイルを読めません: {1}";
    NoPassphraseSource => "no passphrase: no terminal to ask on; set {0} or use --passphrase-file", "パスフレーズがありません: 端末がないため入力を求められません。{0} を設定するか --passphrase-file を使ってください";
    // Fingerprints
    BadFingerprint => "{0}: not a fingerprint (hex digits) nor an organization file", "{0}: フィンガープリント(16進数)でも組織ファイルでもありません";
    FingerprintTooShort => "{0}: fingerprint too short; give at least the 32 hex digits printed by keygen", "{0}: フィンガープリントが短すぎます。keygen が表示した32桁以上の16進数を指定してください";
    SenderOrgNotPinned => "refused: the sender's organization is {0} ({1}), not the expected {2}", "拒否しました: 送信元の組織は {0} ({1}) で、指定された {2} ではありません";
    RecipientOrgMismatch => "the recipient organization is {0} ({1}), not the expected {2}", "宛先の組織は {0} ({1}) で、指定された {2} ではありません";
    RecipientNotRepresentative => "{0}: {1} is not a representative (certified roles: {2}); an envelope is addressed only to an organization's representative, who forwards it inside the organization", "{0}: {1} は受信代表者ではありません(証明書の役割: {2})。封筒は組織の受信代表者にだけ宛てられ、組織内へは受信代表者が転送します";
    RecipientOrgNotPinned => "{0}: the recipient's organization is {1} ({2}), not the expected {3}", "{0}: 受信者の組織は {1} ({2}) で、指定された {3} ではありません";
    // keygen
    BadName => "invalid name {0:?}: it must be 1 to 1024 bytes", "名前 {0:?} は使えません(1〜1024バイト)";
    BadRoles => "invalid roles {0:?}: use a comma-separated list of representative, forwarder, reader, sender, admin", "役割 {0:?} は使えません: representative, forwarder, reader, sender, admin をカンマ区切りで指定してください";
    BadDays => "invalid validity of {0} days (1 to 36500)", "有効期間 {0} 日は使えません(1〜36500)";
    KeygenOrgDone => "Organization {0} ({1}): key {2}, public record {3}", "組織 {0} ({1}): 鍵 {2}、公開レコード {3}";
    KeygenMemberDone => "Member {0} of {1}: key {2}, identity {3}", "{1} のメンバー {0}: 鍵 {2}、識別ファイル {3}";
    OrgFingerprint => "Organization fingerprint: {0}\n  (full: {1})", "組織フィンガープリント: {0}\n  (全体: {1})";
    CertFingerprint => "Certificate fingerprint: {0}\n  (full: {1})", "証明書フィンガープリント: {0}\n  (全体: {1})";
    // encrypt
    BadPartSpec => "invalid --part {0:?}: expected FILE or FILE::key=value,key=value", "--part {0:?} が不正です: FILE または FILE::key=value,key=value の形式です";
    BadLabel => "invalid label {0:?} in --part {1:?}: expected key=value (key 1-64 bytes, value up to 256)", "--part {1:?} のラベル {0:?} が不正です: key=value の形式です(key は1〜64バイト、value は256バイトまで)";
    TooManyLabels => "--part {0:?}: at most {1} labels per part", "--part {0:?}: ラベルはパートごとに {1} 個までです";
    TooManyParts => "at most {0} parts per envelope", "パートは封筒ごとに {0} 個までです";
    NoParts => "no parts given", "パートが指定されていません";
    BadChunkSize => "invalid chunk size {0}: it must be a power of two from 1024 to 16777216", "チャンクサイズ {0} は使えません: 1024〜16777216 の2の累乗です";
    TooLargeForArmor => "{0} bytes are too much for ASCII armor; write a binary envelope instead", "{0} バイトは ASCII アーマーには大きすぎます。バイナリの封筒にしてください";
    TextTooLong => "title and category are limited to {0} bytes", "件名と分類は {0} バイトまでです";
    EncryptFailed => "{0}: encryption failed: {1}", "{0}: 暗号化に失敗しました: {1}";
    EncryptDone => "Encrypted {0} part(s) to {1} of {2} (organization {3}): {4}", "{0} 個のパートを {2} の {1} 宛てに暗号化しました(組織 {3}): {4}";
    ProgressEncrypt => "encrypting for {0}", "{0} 宛てに暗号化中";
    // forward
    ForwardNeedsOutput => "give -o OUT or --in-place", "-o OUT か --in-place を指定してください";
    InPlaceArmored => "{0}: --in-place works only on binary envelopes; use -o for an armored one", "{0}: --in-place はバイナリの封筒だけに使えます。アーマー形式には -o を使ってください";
    InPlaceNeedsAllParts => "{0}: --in-place needs every body to stay, but this forward drops {1}; use -o OUT", "{0}: --in-place ではすべての本文を残す必要がありますが、この転送では {1} が外れます。-o OUT を使ってください";
    TargetOtherOrg => "{0}: {1} belongs to {2}, not to the receiving organization {3} ({4}); forwarding leaves no organization", "{0}: {1} は {2} の所属で、受信組織 {3} ({4}) のメンバーではありません。組織の外へは転送できません";
    NotHolder => "{0} is not the current holder of {1} in {2}", "{0} は {2} の {1} の現在の保持者ではありません";
    HoldsNothing => "{0}: this key ({1}) holds nothing in {2} (wrong key?)", "{0}: この鍵({1})で開けるものは {2} にありません(鍵の間違い?)";
    NoForwardRole => "{0}: {1} may not forward (roles: {2}); forwarding needs the representative or forwarder role", "{0}: {1} には転送の権限がありません(役割: {2})。転送には representative か forwarder の役割が必要です";
    ForwardFailed => "{0}: forwarding failed: {1}", "{0}: 転送に失敗しました: {1}";
    ForwardDone => "Forwarded from {0} to {1}: part(s) {2}: {3}", "{0} から {1} へ転送しました: パート {2}: {3}";
    ProgressForward => "copying bodies", "本文をコピー中";
    // decrypt
    PartNotHeld => "{0} does not hold part {1} of {2}", "{0} は {2} のパート {1} を保持していません";
    DecryptFailed => "part {0} of {1}: {2}; nothing was written", "{1} のパート {0}: {2}。何も書き出していません";
    DecryptDone => "Part {0} ({1} bytes) written to {2}", "パート {0}({1} バイト)を {2} に書き出しました";
    ProgressDecrypt => "decrypting", "復号中";
    // inspect / verify
    InspectEnvelope => "Envelope {0}{1}", "封筒 {0}{1}";
    ArmoredNote => " (ASCII armor)", "(ASCIIアーマー)";
    InspectSuite => "Suite:       {0}", "暗号スイート: {0}";
    InspectId => "Envelope id: {0}", "封筒ID:       {0}";
    InspectCreated => "Created:     {0}", "作成日時:     {0}";
    InspectSender => "Sender:      {0} — {1} (organization {2})", "送信者:       {0} — {1}(組織 {2})";
    InspectRecipient => "Recipient:   {0} — {1} (organization {2})", "宛先:         {0} — {1}(組織 {2})";
    InspectChunk => "Chunk size:  {0} bytes", "チャンク:     {0} バイト";
    InspectParts => "Parts:       {0}", "パート数:     {0}";
    InspectPart => "#{0}  {1} bytes  held by {2}  {3}", "#{0}  {1} バイト  保持者 {2}  {3}";
    BodyPresent => "[body present]", "[本文あり]";
    BodyAbsent => "[body not in this copy]", "[本文なし]";
    NotInCopy => "(not in this copy)", "(この写しにはありません)";
    InspectHops => "Hop chain:", "転送の履歴:";
    SlotMetadata => "metadata", "メタデータ";
    SlotPart => "part {0}", "パート {0}";
    HeldBy => "now held by {0}", "現在の保持者 {0}";
    NoHops => "(no hops: still with the addressed recipient)", "(転送なし: 宛先のまま)";
    HopProof => "re-encryption proof", "再暗号化の証明";
    HopSignature => "forwarder's signature", "転送者の署名";
    InspectBodies => "Bodies:      {0}", "本文:         {0}";
    InspectSignaturesOk => "Signatures:  OK (sender, certificates, {0} hop(s))", "署名:         OK(送信者、証明書、転送 {0} 回)";
    InspectSignaturesFailed => "Signatures:  FAILED: {0}", "署名:         失敗: {0}";
    InspectMetadata => "Metadata (opened with {0}):", "メタデータ({0} で開封):";
    MetadataNeedsValid => "not opened: the envelope did not verify", "開封していません: 封筒の検証に失敗しました";
    MetaTitle => "Title:    {0}", "件名: {0}";
    MetaCategory => "Category: {0}", "分類: {0}";
    MetaPart => "#{0} {1}  labels: {2}", "#{0} {1}  ラベル: {2}";
    KeyHoldsNoSlot => "{0} holds nothing in this envelope", "{0} がこの封筒で開けるものはありません";
    MetadataFailed => "cannot open the metadata: {0}", "メタデータを開けません: {0}";
    VerifyOk => "OK: {0}: sent by {1} of {2} ({3}); {4} hop(s) and {5} body/bodies verified", "OK: {0}: {2}({3})の {1} が送信。転送 {4} 回と本文 {5} 個を検証しました";
    // demo
    DemoIntro => "Soshiki demo: the Omachi senior citizens' celebration (敬老会) list, in {0}", "Soshiki デモ: 大町市 敬老会 招待者名簿({0})";
    DemoStepKeys => "1. Organizations and members (offline administration)", "1. 組織とメンバー(オフライン管理)";
    DemoMember => "{0} [{1}] certificate {2}", "{0} [{1}] 証明書 {2}";
    DemoStepSend => "2. The citizen division encrypts the list to the receiving representative", "2. 市民課が名簿を受信代表者宛てに暗号化";
    DemoSent => "{0} ({1}) → {2} ({3}): {4} envelope(s), parts: cover letter, Omachi list, Yasaka list", "{0}({1})→ {2}({3}): 封筒 {4} 通、パート: 送付状、大町地区名簿、八坂地区名簿";
    DemoStepRoute => "3. Routing inside the receiving organization (re-encryption, no plaintext)", "3. 受信組織内での転送(再暗号化、平文は出ません)";
    DemoForwarded => "{0} → {1}: {2}", "{0} → {1}: {2}";
    DemoChiefReads => "{0} reads the labels of \"{1}\" (not the lists):", "{0} が「{1}」のラベルを確認(名簿の中身は見ません):";
    DemoStepOpen => "4. Each district officer opens its own part", "4. 各地区の担当者が自分のパートを開封";
    DemoOpened => "{0} decrypted {1}", "{0} が {1} を復号";
    DemoCheckParts => "{0} received exactly parts {1}", "{0} が受け取ったのはパート {1} だけ";
    DemoCheckBytes => "{0} got the cover letter and the {1} list byte for byte", "{0} の送付状と{1}地区名簿は送信時とバイト単位で一致";
    DemoCheckDenied => "{0} cannot open the {1} list (nothing written)", "{0} は{1}地区名簿を開けない(何も書き出されない)";
    DemoCheckEarlier => "the chief and the representative cannot open the officers' copies", "課長と受信代表者は担当者宛ての写しを開けない";
    DemoStepChain => "5. The chain, verified without any key", "5. 鍵なしで検証した転送の履歴";
    DemoCheckVerify => "{0}: sender, every hop and every body verify", "{0}: 送信者・全転送・全本文の検証に成功";
    DemoFailed => "demo: {0} check(s) failed", "デモ: {0} 件の確認に失敗しました";
    DemoDone => "All checks passed.", "すべての確認に成功しました。";
    // Core errors: decoding
    DeTruncated => "input ends inside {0}", "{0} の途中でデータが終わっています";
    DeTrailing => "{0} unexpected trailing bytes", "末尾に余分な {0} バイトがあります";
    DeBadMagic => "not a Soshiki {0}", "Soshiki の{0}ではありません";
    DeVersion => "unsupported {0} version {1}", "{0} のバージョン {1} には対応していません";
    DeUnknownSuite => "unknown cipher suite 0x{0}", "不明な暗号スイート 0x{0}";
    DeSuiteMismatch => "cipher suite mismatch: expected {0}, found {1}", "暗号スイートが違います: {0} のはずが {1} です";
    DeInvalidPoint => "invalid group element", "不正な群の元";
    DeInvalidScalar => "invalid scalar", "不正なスカラー";
    DeInvalidKey => "invalid key encoding", "不正な鍵の符号化";
    DeLimit => "{0} exceeds the limit of {1}", "{0} が上限 {1} を超えています";
    DeUtf8 => "{0} is not valid UTF-8", "{0} が UTF-8 として不正です";
    DeInvalidValue => "invalid value in {0}", "{0} の値が不正です";
    DeArmor => "invalid ASCII armor: {0}", "ASCII アーマーが不正です: {0}";
    // Core errors: verification
    VeOrganization => "the organization record's signature is invalid", "組織レコードの署名が不正です";
    VeCertificate => "the certificate {0} is invalid (signature, issuer or validity)", "証明書 {0} が不正です(署名、発行者、有効期間のいずれか)";
    VeUnpinned => "organization {1} is not the expected {0}", "組織 {1} は指定された {0} ではありません";
    VeSenderSignature => "the sender's signature does not match (the envelope was altered)", "送信者の署名が一致しません(封筒が改ざんされています)";
    VeHop => "hop {1} of {0} is invalid: {2}", "{0} の {1} 番目の転送が不正です: {2}";
    VeLineage => "the capsule of {0} does not descend from the sender's (altered)", "{0} のカプセルが送信者のものから正しく導かれていません(改ざん)";
    VeBodyDigest => "the body of part {0} was altered (digest differs from the signed one)", "パート {0} の本文が改ざんされています(署名されたダイジェストと不一致)";
    VeShareProof => "a re-encryption proof is invalid", "再暗号化の証明が不正です";
    VeInconsistent => "inconsistent envelope: {0}", "封筒の内容に矛盾があります: {0}";
    // Core errors: decryption, encryption, forwarding, key files
    DcNotRecipient => "this key is not a recipient of {0}", "この鍵は {0} の受信者ではありません";
    DcFailed => "decryption failed (wrong key or altered data)", "復号に失敗しました(鍵の間違いかデータの改ざん)";
    DcKeyHolder => "key holder error: {0}", "鍵の保持装置のエラー: {0}";
    DcIo => "I/O error: {0}", "入出力エラー: {0}";
    EnLimit => "{0} exceeds the limit of {1}", "{0} が上限 {1} を超えています";
    EnInvalid => "invalid input: {0}", "入力が不正です: {0}";
    FwNotHolder => "this key is not the current holder of {0}", "この鍵は {0} の現在の保持者ではありません";
    FwNoForwardingRole => "this member's certificate has no forwarding role (forwarder or representative)", "このメンバーの証明書には転送の役割（転送者または受信代表者）がありません";
    FwTooManyHops => "{0} already has the maximum number of hops", "{0} は転送回数の上限に達しています";
    FwNoSuchPart => "no part {0} in this envelope", "この封筒にパート {0} はありません";
    KfUnlock => "wrong passphrase or damaged key file", "パスフレーズが違うか、鍵ファイルが壊れています";
    KfWrongKind => "the file holds a {1} key, not a {0} key", "このファイルの鍵は{1}の鍵で、{0}の鍵ではありません";
    KfParameters => "key-file protection parameters are outside the accepted range", "鍵ファイルの保護パラメータが許容範囲外です";
    // Management server (serve, demo scenarios, server commands)
    BadDemoLabel => "invalid label {0:?}: expected key=value", "ラベル {0:?} が不正です: key=value の形式です";
    CheckStolenCopy => "{0} cannot decrypt any part even with a copy of {1}'s envelope bytes", "{0} は {1} の封筒のコピーを入手しても、どのパートも復号できない";
    RcDelivered => "delivered", "配達";
    RcForwarded => "forwarded", "転送";
    RegistrationTokenShort => "{0}: the registration token must be at least 16 characters", "{0}: 登録トークンは16文字以上にしてください";
    RcDownloaded => "downloaded", "ダウンロード";
    RcOpened => "opened", "開封";
    RcRecalled => "recalled", "取消";
    StateUnreadable => "{0}: cannot read the client state: {1}", "{0}: クライアントの状態ファイルを読めません: {1}";
    StepFetchOrg => "fetching the organization", "組織情報の取得";
    StepRevoke => "revocation", "失効";
    StepInbox => "reading the inbox", "受信箱の取得";
    StepAudit => "verifying the audit trail", "監査ログの検証";
    PinFailed => "cannot pin the organization: {0}", "組織を固定(ピン留め)できません: {0}";
    OrgCreated => "Organization {0} registered.\n  fingerprint {1} (give it to the members and to senders out of band)\n  organization key {2}\n  administrator key {3} (certificate {4})", "組織 {0} を登録しました。\n  フィンガープリント {1}(メンバーと送信者に別経路で伝えてください)\n  組織鍵 {2}\n  管理者の鍵 {3}(証明書 {4})";
    OrgShow => "Organization {0}\n  fingerprint {1} (pinned)", "組織 {0}\n  フィンガープリント {1}(固定済み)";
    PolicyShow => "  unopened deliveries expire after: {0}\n  bodies are kept for: {1}\n  longest certificate validity: {2}\n  storage quota: {3}\n  sending to other organizations: {4}", "  未開封の配達の有効期限: {0}\n  本文の保存期間: {1}\n  証明書の最長有効期間: {2}\n  保存容量の上限: {3}\n  他の組織への送信: {4}";
    SenderRoleRequired => "members with the sender role only", "送信者の役割を持つ職員のみ";
    SenderRoleNotRequired => "every member", "すべての職員";
    PolicyOf => "Policy of {0}:", "{0} の運用方針:";
    PolicySet => "Policy of {0} set:", "{0} の運用方針を設定しました:";
    NoLimit => "no limit", "制限なし";
    Days => "{0} days", "{0} 日";
    BadPolicyDays => "{0} {1}: expected a number of days from 1 to 36500, or none", "{0} {1}: 日数は1〜36500の整数か none で指定してください";
    BadSize => "--quota {0}: expected a size such as 500MiB, 20GiB, 1TB or plain bytes, or none", "--quota {0}: 500MiB、20GiB、1TB、バイト数のような大きさか none で指定してください";
    SizeTooLarge => "--quota {0}: a quota is at most 1PiB", "--quota {0}: 保存容量の上限は 1PiB までです";
    StepPolicy => "setting the policy", "運用方針の設定";
    BackupFailed => "backup failed: {0}", "バックアップに失敗しました: {0}";
    BackupDone => "backup written to {0} (manifest.json last: the backup is complete)", "バックアップを {0} に書き出しました（最後に manifest.json を書いたので完全です）";
    BackupInvalid => "{0}", "バックアップを確認できません: {0}";
    BackupVerified => "{0}: the backup verifies (digests, database integrity, counts, bodies, audit chains)", "{0}: バックアップを確認しました（ダイジェスト、データベースの整合性、件数、本文、監査記録の連鎖）";
    BackupSummary => "  {0} organizations, {1} members, {2} envelopes, {3} deliveries, {4} audit entries; {5} bodies; {6} in all; schema version {7}", "  組織 {0}、職員 {1}、封筒 {2}、配達 {3}、監査記録 {4} 件、本文 {5} 件、合計 {6}、スキーマ版 {7}";
    RestoreFailed => "restore failed: {0}", "復元に失敗しました: {0}";
    RestoreDone => "restored {0} into {1}; start the server on it", "{0} を {1} に復元しました。サーバーを起動してください";
    MigrateNeedsTarget => "name the target: a PostgreSQL database_url (postgres://…) and a blobs_url (s3://…), with --to-config FILE or --to-database/--to-blobs", "移行先を指定してください: PostgreSQL の database_url（postgres://…）と blobs_url（s3://…）を --to-config FILE または --to-database/--to-blobs で";
    MigrateFailed => "migration failed: {0}", "移行に失敗しました: {0}";
    MigrateDone => "copied and verified into {0} and {1}: rows per table (equal in source and target), audit chains linked:", "{0} と {1} に複製し、確認しました（表ごとの行数は移行元と一致、監査記録の連鎖も確認済み）:";
    MigrateBlobs => "  bodies: {0} ({1}), every digest equal", "  本文: {0} 件（{1}）、すべてのダイジェストが一致";
    ConfigInvalid => "the settings file {0} is not valid: {1}", "設定ファイル {0} が正しくありません: {1}";
    ConfigBadValue => "setting {0}: the value {1:?} is not valid", "設定 {0}: 値 {1:?} は使えません";
    ConfigBothGiven => "setting {0} is given both directly and as {0}_file: give one", "設定 {0} が直接の値と {0}_file の両方で指定されています。どちらか一方にしてください";
    ConfigClosedNeedsToken => "registration = \"closed\" needs registration_token_file (the file holding the operator's token)", "registration = \"closed\" には registration_token_file（運用者のトークンを書いたファイル）が必要です";
    ManpagesWritten => "{0} manual pages written in {1}", "{1} に man ページを {0} 件書き出しました";
    ConfigValid => "{0}: valid. Effective settings (secrets masked; after each value, where it came from):", "{0}: 正しい設定です。有効な設定値（秘密の値は伏せ字、各値の後ろは指定元）:";
    CeNoSendingRole => "your organization lets only members with the sender role send to other organizations, and your certificate does not carry it: ask an administrator", "あなたの組織では、送信者の役割を持つ職員だけが他の組織へ送信できます。あなたの証明書にはこの役割がありません。管理者に連絡してください";
    CeTooManyPending => "you have too many unfinished uploads: wait until one finishes, or send again later (an unfinished upload expires within a day) (server: {0})", "完了していない送信が多すぎます。送信中のものが終わるのを待つか、しばらく(最長で1日)たってからもう一度送信してください(サーバ: {0})";
    CeQuota => "your organization's storage quota would be exceeded: ask an administrator to free space or raise the quota (server: {0})", "組織の保存容量の上限を超えるため送信できません。管理者に連絡して、容量を空けるか上限を引き上げてもらってください(サーバ: {0})";
    Verified => "verified", "検証済み";
    MemberLine => "  {0} [{1}] {2} ({3})", "  {0} [{1}] {2}({3})";
    EnrollSent => "Enrollment of {0} in {1} requested: id {2}. Keys in {3} (pending). After approval run `soshiki login --key {3}`.", "{1} への {0} の登録を申請しました: ID {2}。鍵は {3}(承認待ち)。承認後に `soshiki login --key {3}` を実行してください。";
    EnrollCode => "Enrollment code: {0}\n  Tell it to your administrator in person or by phone (not through the server): they must type it to approve, so that only the keys made on this device are certified.", "登録コード: {0}\n  このコードを管理者に対面または電話で伝えてください(サーバー経由では伝えないでください)。管理者が入力して初めて承認でき、この端末で作った鍵だけが証明されます。";
    NeedCode => "approving needs the enrollment code shown on the member's device (--code, or type it on a terminal)", "承認には、メンバーの端末に表示された登録コードが必要です(--code で指定するか、端末で入力してください)";
    PromptCode => "Enrollment code shown on the member's device for {0} ({1} days): ", "メンバーの端末に表示された {0} の登録コード(有効期間 {1} 日): ";
    NoPending => "No pending enrollment.", "承認待ちの登録申請はありません。";
    PendingLine => "  {0}  {1} [{2}] valid {3} days (proof of possession verified; approve with the member's enrollment code)", "  {0}  {1} [{2}] 有効期間 {3} 日(鍵の所持を確認済み。承認にはメンバーの登録コードが必要です)";
    PendingBad => "  {0}  INVALID: {1}", "  {0}  不正: {1}";
    NeedOrgKey => "approving needs the organization key (--org-key)", "承認には組織鍵(--org-key)が必要です";
    Approved => "Approved {0}: certificate {1}, valid until {2}", "{0} を承認しました: 証明書 {1}、有効期限 {2}";
    Revoked => "Revoked {0} ({1})", "{0} を失効させました({1})";
    NoEnrollment => "{0} is a pending key but no enrollment for it is recorded in the client state", "{0} は承認待ちの鍵ですが、クライアントの状態に対応する登録申請がありません";
    EnrollDone => "Enrollment approved: {0}; {1} now holds the certified key", "登録が承認されました: {0}。{1} は証明済みの鍵になりました";
    EnrollRejected => "enrollment {0} was rejected by the administrator", "登録申請 {0} は管理者に却下されました";
    EnrollPending => "enrollment {0} is not approved yet (enrollment code {1})", "登録申請 {0} はまだ承認されていません(登録コード {1})";
    LoggedIn => "Logged in as {0} at {1}", "{1} に {0} としてログインしました";
    Uploading => "Uploading", "アップロード中";
    Downloading => "Downloading", "ダウンロード中";
    Sent => "Sent to {0} ({1}): envelope {2}, delivery {3}", "{0}({1})へ送信しました: 封筒 {2}、配達 {3}";
    // send --split-by (the shared splitter: soshiki_client::csv_split)
    CsvSplitDone => "{0} ({1}): split by column {2:?} into {3} part(s): {4}", "{0}({1}): 列 {2:?} で {3} 個のパートに分割しました: {4}";
    CsvSplitPart => "{0} ({1} row(s))", "{0}({1} 行)";
    CsvNoCsvPart => "--split-by {0:?} needs a --part whose file name ends in .csv", "--split-by {0:?} には、ファイル名が .csv で終わる --part が必要です";
    CsvCannotSplit => "cannot split {0} by column {1:?}: {2}", "{0} を列 {1:?} で分割できません: {2}";
    CsvEncCp932 => "Shift_JIS (CP932)", "Shift_JIS (CP932)";
    CsvEncUtf8Bom => "UTF-8 (with BOM)", "UTF-8 (BOM付き)";
    CsvEncUtf8 => "UTF-8", "UTF-8";
    CsvUtf16 => "the file is {0} (byte-order mark {1}), not UTF-8 or Shift_JIS (CP932); save it from Excel as \"CSV UTF-8\" or \"CSV\"", "ファイルは {0}(BOM {1})で、UTF-8 でも Shift_JIS (CP932) でもありません。Excel で「CSV UTF-8」または「CSV」として保存し直してください";
    CsvUtf16NoBom => "the file is {0} without a byte-order mark, not UTF-8 or Shift_JIS (CP932); save it from Excel as \"CSV UTF-8\" or \"CSV\"", "ファイルは BOM のない {0} で、UTF-8 でも Shift_JIS (CP932) でもありません。Excel で「CSV UTF-8」または「CSV」として保存し直してください";
    CsvBinary => "not a text file: a NUL byte at byte offset {0}", "テキストファイルではありません(バイト位置 {0} に NUL バイト)";
    CsvBadUtf8AfterBom => "the file starts with a UTF-8 byte-order mark but line {0} is not UTF-8 (bytes {1} at byte offset {2})", "UTF-8 の BOM で始まりますが、{0} 行目が UTF-8 ではありません(バイト位置 {2} のバイト {1})";
    CsvUnknownEncoding => "the file is neither UTF-8 nor Shift_JIS (CP932): line {0} has bytes {1} (byte offset {2}) that are valid in neither", "UTF-8 でも Shift_JIS (CP932) でもありません: {0} 行目のバイト {1}(バイト位置 {2})はどちらの文字コードとしても読めません";
    CsvEmpty => "the file is empty: no header line", "ファイルが空です(見出し行がありません)";
    CsvNoDataRows => "the file has a header line but no data rows", "見出し行だけで、データ行がありません";
    CsvUnterminatedQuote => "the quoted field that begins on line {0} is never closed", "{0} 行目で始まる「\"」で囲まれた項目が閉じられていません";
    CsvMissingField => "line {0} has {2} field(s): column {1} is missing", "{0} 行目には項目が {2} 個しかなく、{1} 列目がありません";
    CsvNoSuchColumn => "no column {0:?}; the columns are: {1}", "列 {0:?} はありません。列は次のとおりです: {1}";
    CsvAmbiguousColumn => "several columns are named {0:?} (numbers {1}); give the column's number", "{0:?} という列が複数あります(列番号 {1})。列番号で指定してください";
    CsvUnnamedColumn => "column {0} has no name in the header line; a label needs one", "{0} 列目には見出しがありません。ラベルには列名が必要です";
    CsvColumnNameTooLong => "the name of column {0} is longer than {1} bytes, the limit of a label key", "{0} 列目の列名が、ラベル名の上限 {1} バイトを超えています";
    CsvValueTooLong => "line {0}: the value is longer than {1} bytes, the limit of a label value", "{0} 行目: 値が、ラベル値の上限 {1} バイトを超えています";
    CsvTooManyParts => "the column has more than {0} different values; an envelope holds at most {0} parts", "列の値が {0} 種類を超えています。1つの封筒に入るパートは {0} 個までです";
    InboxEmpty => "The inbox is empty.", "受信箱は空です。";
    InboxLine => "{0}  {1}  from {2} ({3})  parts {4}  forwardable {5}", "{0}  {1}  送信者 {2}({3})  パート {4}  転送可能 {5}";
    BadRoute => "invalid route {0:?}: expected CERTIFICATE-ID:PART,PART", "経路 {0:?} が不正です: 証明書ID:パート,パート の形式です";
    Delivered => "part(s) {0} -> {1}: delivery {2}", "パート {0} → {1}: 配達 {2}";
    RecallDone => "Delivery {0} is {1}", "配達 {0} の状態: {1}";
    OpenedFrom => "\"{0}\" from {1} of {2} ({3})", "「{0}」 送信者 {2}({3})の {1}";
    OpenedPart => "  part {0} {1} -> {2} ({3} bytes)", "  パート {0} {1} → {2}({3} バイト)";
    ReceiptFull => "{0}  {1}  part(s) {2}  holder roles {3}  delivery {4}", "{0}  {1}  パート {2}  保持者の役割 {3}  配達 {4}";
    AuditLine => "{0}  {1}  {2}  by {3} ({4})", "{0}  {1}  {2}  実行者 {3}({4})";
    AuditOk => "The audit trail of {0} verifies: {1} entries, hash chain and every signature checked", "{0} の監査ログを検証しました: {1} 件、ハッシュ連鎖と全署名を確認";
    NoRules => "No rules.", "ルールはありません。";
    RulesSigned => "These rules are signed by your member key (at {0}).", "このルールはあなたのメンバー鍵で署名されています({0})。";
    RulesUnsigned => "The rules on the server are NOT signed by your member key: {0}. Set them again with --set.", "サーバー上のルールはあなたのメンバー鍵で署名されていません: {0}。--set で設定し直してください。";
    AgentRulesRefused => "REFUSED: the rules on the server are not the ones you signed ({0}); nothing was forwarded. Check them with `soshiki rules` and set them again.", "拒否: サーバー上のルールはあなたが署名したものではありません({0})。何も転送していません。`soshiki rules` で確認し、設定し直してください。";
    RevocationsPublished => "Published revocation list #{0} ({1} revoked), valid until {2}", "失効リスト #{0} を公開しました(失効 {1} 件、{2} まで有効)";
    AuditCheckpointHeld => "Checked against the organization-signed checkpoint at entry {0} (signed at {1})", "組織署名のチェックポイント(エントリ {0}、{1} に署名)と照合しました";
    AuditCheckpointSigned => "Signed a checkpoint of the audit trail of {0} at entry {1} with the organization key", "{0} の監査ログのチェックポイント(エントリ {1})を組織鍵で署名しました";
    TrNoList => "{0} has published no revocation list: its administrator must publish one (soshiki member revocations) before its members can be addressed", "{0} は失効リストを公開していません。管理者が公開する(soshiki member revocations)まで、そのメンバーには送れません";
    TrWithheld => "the server withholds the revocation list of {0} (list #{1} was seen before)", "サーバーが {0} の失効リストを隠しています(以前にリスト #{1} を確認済み)";
    TrMalformed => "malformed revocation list: {0}", "失効リストの形式が不正です: {0}";
    TrSignature => "the revocation list is not signed by the pinned organization", "失効リストが登録済みの組織の署名ではありません";
    TrRollback => "the server replays an old revocation list (#{0}; #{1} was seen before)", "サーバーが古い失効リストを返しています(#{0}、以前に #{1} を確認済み)";
    TrStale => "the revocation list is stale: a newer one was due at {0} (now {1}); the organization's administrator must publish a new one", "失効リストの期限切れです: {0} までに新しいリストが必要でした(現在 {1})。組織の管理者が新しいリストを公開する必要があります";
    TrFuture => "the revocation list is issued in the future ({0}, now {1})", "失効リストの発行時刻が未来です({0}、現在 {1})";
    TrPartnersWithheld => "the server withholds the partner list of {0} (list #{1} was seen before)", "サーバーが {0} の相手先組織の一覧を隠しています(以前に一覧 #{1} を確認済み)";
    TrPartnersSignature => "the partner list is not signed by your organization", "相手先組織の一覧があなたの組織の署名ではありません";
    TrPartnersRollback => "the server replays an old partner list (#{0}; #{1} was seen before)", "サーバーが古い相手先組織の一覧を返しています(#{0}、以前に #{1} を確認済み)";
    TrPartnersFuture => "the partner list is issued in the future ({0}, now {1})", "相手先組織の一覧の発行時刻が未来です({0}、現在 {1})";
    PartnerConfirm => "Add {0} (fingerprint {1}) to the partner organizations every member of {2} trusts? [y/N] ", "{0}(フィンガープリント {1})を、{2} の全メンバーが信頼する相手先組織に追加しますか? [y/N] ";
    PartnerNotConfirmed => "not added: confirm on a terminal, or pass --yes after checking the name and fingerprint", "追加しませんでした: 端末で確認するか、名前とフィンガープリントを確認したうえで --yes を指定してください";
    PartnersPublished => "Published partner list #{0} ({1} partner organization(s))", "相手先組織の一覧 #{0} を公開しました({1} 組織)";
    PartnersNone => "Your organization has published no partner list.", "あなたの組織は相手先組織の一覧を公開していません。";
    PartnersHeader => "Partner organizations of {0} (list #{1}, signed by the organization):", "{0} の相手先組織(一覧 #{1}、組織の署名を確認済み):";
    PartnerLine => "  {0}  {1}", "  {0}  {1}";
    PartnerNotListed => "{0} is not in the partner list", "{0} は相手先組織の一覧にありません";
    PartnerTrusted => "{0} is a partner organization confirmed by your administrator", "{0} は組織の管理者が確認済みの相手先組織です";
    StepPartners => "partner list", "相手先組織の一覧";
    TrOtherOrg => "the certificate is not issued by the revocation list's organization", "証明書が失効リストの組織の発行ではありません";
    TrRevoked => "{0} was revoked by the organization (at {1}): not addressed", "{0} は組織により失効されています({1}): 宛先にしません";
    AgentStarted => "Agent running as {0} on {1} (Ctrl-C to stop)", "エージェントを {0} として {1} で実行中(Ctrl-C で停止)";
    AgentForwarded => "\"{0}\": part(s) {1} -> {2} (delivery {3})", "「{0}」: パート {1} → {2}(配達 {3})";
    NeedRoute => "forwarding a delivery needs at least one --route CERTIFICATE-ID:PARTS", "配達の転送には --route 証明書ID:パート が一つ以上必要です";
    MembersNeedLogin => "(listing its members needs a login: use `soshiki member list --key FILE`)", "(メンバー一覧にはログインが必要です: `soshiki member list --key FILE` を使ってください)";
    CeTransport => "cannot reach the server{0}", "サーバに接続できません{0}";
    CeApi => "the server refused ({0}): {1}", "サーバが拒否しました({0}): {1}";
    CeUntrusted => "data from the server cannot be trusted: {0}", "サーバから受け取ったデータは信頼できません: {0}";
    CeNotLoggedIn => "not logged in: run `soshiki login --key FILE` first", "ログインしていません: 先に `soshiki login --key FILE` を実行してください";
    ReadFailed => "{0}: cannot read: {1}", "{0}: 読み込めません: {1}";
    ServeFailed => "the server failed: {0}", "サーバでエラーが発生しました: {0}";
    DataDirFailed => "{0}: cannot use the data directory: {1}", "{0}: データディレクトリを使用できません: {1}";
    TlsPair => "--tls-cert and --tls-key must be given together", "--tls-cert と --tls-key は両方指定してください";
    ServeListening => "Soshiki server listening on {0} (data directory {1})", "Soshiki サーバが {0} で待ち受けています(データディレクトリ {1})";
    ServeStopHint => "Press Ctrl-C to stop.", "停止するには Ctrl-C を押してください。";
    DemoAlreadySeeded => "Demo organizations already seeded: key files in {0}", "デモ用の組織は作成済みです: 鍵ファイルは {0}";
    DemoSeedScenario => "Seeding the organizations and members of scenario {0}", "シナリオ {0} の組織とメンバーを作成しています";
    DemoSeedOrg => "  organization {0}\n    fingerprint {1}\n    organization key {2}", "  組織 {0}\n    フィンガープリント {1}\n    組織鍵 {2}";
    DemoSeedMember => "  member {0} [{1}] certificate {2}\n    key {3}", "  メンバー {0} [{1}] 証明書 {2}\n    鍵 {3}";
    DemoSeeded => "Demo data seeded. Key files under {0}; every key file's passphrase is in {1}: {2}", "デモデータを作成しました。鍵ファイルは {0} の下にあります。全鍵ファイル共通のパスフレーズは {1} にあります: {2}";
    StepFailed => "{0} failed: {1}", "{0}に失敗しました: {1}";
    StepConnect => "connecting to the server", "サーバへの接続";
    StepRegister => "registering the organization", "組織の登録";
    StepEnroll => "enrollment", "メンバー登録申請";
    StepApprove => "approval of the enrollment", "登録申請の承認";
    StepLogin => "login", "ログイン";
    StepSend => "sending", "送信";
    StepForward => "forwarding", "転送";
    StepRules => "storing the rules", "ルールの保存";
    StepAgent => "the agent's pass", "エージェントの処理";
    StepRecall => "recall", "取り消し";
    StepOpen => "opening", "開封";
    StepReceipts => "fetching the receipts", "受領通知の取得";
    EnrollNotApproved => "the enrollment of {0} was not approved", "{0} の登録申請は承認されませんでした";
    ScenarioUnknown => "unknown scenario {0}; choose one of: offline, {1}", "不明なシナリオ {0} です。次から選んでください: offline, {1}";
    ScenarioStart => "=== Scenario {0}: {1} ===", "=== シナリオ {0}: {1} ===";
    ScenarioServer => "Embedded server at {0} (temporary data directory {1})", "組み込みサーバ {0}(一時データディレクトリ {1})";
    ScenarioPassed => "Scenario {0}: all {1} checks passed.", "シナリオ {0}: {1} 件の確認がすべて成功しました。";
    ScenarioFailed => "scenario {0}: {1} of {2} checks failed", "シナリオ {0}: {2} 件中 {1} 件の確認に失敗しました";
    ScenOmachi => "Omachi: the senior citizens' celebration list, split by district", "大町: 敬老会名簿を地区ごとに分けて配布";
    ScenMinowa => "Minowa: care-level results to a care provider's care managers", "箕輪: 要介護認定結果を事業所のケアマネジャーへ";
    ScenTsubame => "Tsubame: a resident moves in; DV and welfare records only to their officers, by rules", "燕: 転入者の記録。DV・福祉の記録はルールで担当者だけに";
    ScenKakogawa => "Kakogawa: three divisions' evacuation-support lists redistributed per district by the agent", "加古川: 三課の避難行動要支援者名簿をエージェントが地区ごとに再配布";
    ScenKyoto => "Kyoto referral: clinic -> liaison office -> doctor; the clerk cannot read", "京都 紹介状: 診療所 → 地域医療連携室 → 医師。事務員は読めない";
    ScenOutsourcing => "Outsourcing: municipality -> contractor -> its workers", "業務委託: 自治体 → 受託事業者 → 担当者";
    ScenWrong => "Wrong recipient: forwarded to the wrong officer, recalled, re-forwarded", "誤送付: 誤った担当者へ転送、取り消し、正しい担当者へ再転送";
    ChainOrg => "ORG     {0} registered (fingerprint {1})", "組織    {0} を登録(フィンガープリント {1})";
    ChainMember => "MEMBER  {0} [{1}] enrolled in {2}", "メンバー {0} [{1}] を {2} に登録";
    ChainSend => "SEND    {0} ({1}) -> {2} ({3}): \"{4}\", {5} part(s)", "送信    {0}({1})→ {2}({3}): 「{4}」 パート {5} 個";
    ChainForward => "FORWARD {0}: part(s) {1} -> {2}", "転送    {0}: パート {1} → {2}";
    ChainRule => "RULE    {0}: {1} -> {2}", "ルール  {0}: {1} → {2}";
    ChainAgentForward => "AGENT   {0} (\"{1}\"): part(s) {2} -> {3}", "代理    {0}(「{1}」): パート {2} → {3}";
    ChainAgentKept => "AGENT   {0}: no rule for part(s) {1}; kept", "代理    {0}: パート {1} に合うルールなし(保留)";
    ChainRecall => "RECALL  {0} recalled the unopened delivery to {1}", "取消    {0} が {1} への未開封の配達を取り消し";
    ChainOpen => "OPEN    {0} opened part(s) {1}: {2}", "開封    {0} がパート {1} を開封: {2}";
    ReceiptsHeader => "Receipts seen by the sender {0}:", "送信者 {0} が見る受領通知:";
    ReceiptLine => "  {0}: part(s) {1} (holder roles: {2})", "  {0}: パート {1}(保持者の役割: {2})";
    CheckOk => "  CHECK OK  {0}", "  確認 OK   {0}";
    CheckFailed => "  CHECK FAILED  {0}", "  確認 失敗 {0}";
    CheckReaderParts => "{0} got exactly part(s) {1}, byte for byte", "{0} はパート {1} だけを、1バイトも違わず受け取った";
    CheckCannotOpen => "{0} cannot open the delivery held by {1} ({2})", "{0} は {1} の配達を開封できない({2})";
    CheckRecalled => "the delivery to {0} is {1}", "{0} への配達の状態: {1}";
    CheckRules => "the rules of {0} routed every part to its officer", "{0} のルールで全パートが担当者へ振り分けられた";
    CheckAudit => "the audit trail of {0} verifies ({1} entries)", "{0} の監査ログを検証した({1} 件)";
    CheckAuditFailed => "the audit trail of {0} does not verify: {1}", "{0} の監査ログの検証に失敗: {1}";
    CheckServerBlind => "the server's data ({0} files, {1} bytes) holds no plaintext and no member secret key", "サーバのデータ({0} ファイル、{1} バイト)に平文もメンバーの秘密鍵も含まれない";
    CheckServerLeak => "plaintext or a secret key found in the server's files: {0}", "サーバのファイルに平文または秘密鍵が含まれている: {0}";
    Other => "{0}", "{0}";
}

/// Fill a template: `{N}` becomes argument N (`{N:?}` quotes it). One pass, so arguments that
/// contain braces are never re-expanded.
fn fill(template: &str, args: &[&dyn Display]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('}');
        let spec = end.map(|e| &after[..e]);
        let (digits, debug) = match spec {
            Some(s) => s.strip_suffix(":?").map_or((s, false), |d| (d, true)),
            None => ("", false),
        };
        match (end, digits.parse::<usize>().ok().and_then(|i| args.get(i))) {
            (Some(e), Some(a)) => {
                if debug {
                    out.push_str(&format!("{:?}", a.to_string()));
                } else {
                    out.push_str(&a.to_string());
                }
                rest = &after[e + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A message in the current language.
pub fn tr(m: M, args: &[&dyn Display]) -> String {
    fill(m.template(lang()), args)
}

/// A message as an error.
pub fn err(m: M, args: &[&dyn Display]) -> anyhow::Error {
    anyhow::Error::msg(tr(m, args))
}

/// A key kind (`member`, `organization`) in the current language.
pub fn key_kind(kind: &str) -> String {
    match kind {
        "member" => tr(M::KindMember, &[]),
        "organization" => tr(M::KindOrganization, &[]),
        other => other.to_string(),
    }
}

/// A decoding error from the core.
pub fn decode_error(e: &DecodeError) -> String {
    match e {
        DecodeError::Truncated(w) => tr(M::DeTruncated, &[w]),
        DecodeError::TrailingBytes(n) => tr(M::DeTrailing, &[n]),
        DecodeError::BadMagic(w) => tr(M::DeBadMagic, &[w]),
        DecodeError::UnsupportedVersion { what, version } => tr(M::DeVersion, &[what, version]),
        DecodeError::UnknownSuite(s) => tr(M::DeUnknownSuite, &[&format!("{s:04x}")]),
        DecodeError::SuiteMismatch { expected, found } => {
            tr(M::DeSuiteMismatch, &[expected, found])
        }
        DecodeError::InvalidPoint => tr(M::DeInvalidPoint, &[]),
        DecodeError::InvalidScalar => tr(M::DeInvalidScalar, &[]),
        DecodeError::InvalidKey => tr(M::DeInvalidKey, &[]),
        DecodeError::LimitExceeded { what, limit } => tr(M::DeLimit, &[what, limit]),
        DecodeError::InvalidUtf8(w) => tr(M::DeUtf8, &[w]),
        DecodeError::InvalidValue(w) => tr(M::DeInvalidValue, &[w]),
        DecodeError::Armor(w) => tr(M::DeArmor, &[w]),
        other => tr(M::Other, &[other]),
    }
}

/// A verification error from the core.
pub fn verify_error(e: &VerifyError) -> String {
    match e {
        VerifyError::Organization => tr(M::VeOrganization, &[]),
        VerifyError::Certificate(c) => tr(M::VeCertificate, &[c]),
        VerifyError::UnpinnedOrganization { expected, found } => {
            tr(M::VeUnpinned, &[expected, found])
        }
        VerifyError::SenderSignature => tr(M::VeSenderSignature, &[]),
        VerifyError::Hop { slot, hop, reason } => tr(M::VeHop, &[slot, hop, &hop_reason(reason)]),
        VerifyError::CapsuleLineage(s) => tr(M::VeLineage, &[s]),
        VerifyError::BodyDigest(n) => tr(M::VeBodyDigest, &[n]),
        VerifyError::ShareProof => tr(M::VeShareProof, &[]),
        VerifyError::Inconsistent(w) => tr(M::VeInconsistent, &[w]),
        other => tr(M::Other, &[other]),
    }
}

/// The core's hop-failure reasons, in Japanese when asked.
fn hop_reason(reason: &str) -> String {
    if lang() == Lang::En {
        return reason.to_string();
    }
    let ja = match reason {
        "the forwarder is not the previous holder" => "転送者が直前の保持者ではありません",
        "hop time goes backwards" => "転送時刻が前の転送より前です",
        "the forwarder's certificate has no forwarding role" => {
            "転送者の証明書に転送の役割がありません"
        }
        "the forwarder's certificate was not valid at the hop's time" => {
            "転送時点で転送者の証明書が有効ではありません"
        }
        "target certificate missing" => "転送先の証明書がありません",
        "target certificate invalid at the hop's time" => {
            "転送時点で転送先の証明書が有効ではありません"
        }
        "proof or signature does not verify" => "証明または署名が検証できません",
        other => other,
    };
    ja.to_string()
}

/// A decryption error from the core.
pub fn decrypt_error(e: &DecryptError) -> String {
    match e {
        DecryptError::Verify(v) => verify_error(v),
        DecryptError::NotRecipient(s) => tr(M::DcNotRecipient, &[s]),
        DecryptError::Failed => tr(M::DcFailed, &[]),
        DecryptError::KeyHolder(d) => tr(M::DcKeyHolder, &[d]),
        DecryptError::Io(d) => tr(M::DcIo, &[d]),
        other => tr(M::Other, &[other]),
    }
}

/// An encryption error from the core.
pub fn encrypt_error(e: &EncryptError) -> String {
    match e {
        EncryptError::LimitExceeded { what, limit } => tr(M::EnLimit, &[what, limit]),
        EncryptError::Verify(v) => verify_error(v),
        EncryptError::Invalid(w) => tr(M::EnInvalid, &[w]),
        EncryptError::Io(io) => tr(M::DcIo, &[io]),
        other => tr(M::Other, &[other]),
    }
}

/// A forwarding error from the core.
pub fn forward_error(e: &ForwardError) -> String {
    match e {
        ForwardError::Verify(v) => verify_error(v),
        ForwardError::NotHolder(s) => tr(M::FwNotHolder, &[s]),
        ForwardError::NoForwardingRole => tr(M::FwNoForwardingRole, &[]),
        ForwardError::TooManyHops(s) => tr(M::FwTooManyHops, &[s]),
        ForwardError::NoSuchPart(n) => tr(M::FwNoSuchPart, &[n]),
        ForwardError::KeyHolder(d) => tr(M::DcKeyHolder, &[d]),
        ForwardError::Invalid(w) => tr(M::EnInvalid, &[w]),
        other => tr(M::Other, &[other]),
    }
}

/// A key-file error from the core.
pub fn key_file_error(e: &KeyFileError) -> String {
    match e {
        KeyFileError::Decode(d) => decode_error(d),
        KeyFileError::Unlock => tr(M::KfUnlock, &[]),
        KeyFileError::WrongKind { expected, found } => {
            tr(M::KfWrongKind, &[&key_kind(expected), &key_kind(found)])
        }
        KeyFileError::Parameters => tr(M::KfParameters, &[]),
        other => tr(M::Other, &[other]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(t: &str) -> Vec<String> {
        let mut v: Vec<String> = t
            .match_indices('{')
            .filter_map(|(i, _)| {
                t[i + 1..]
                    .find('}')
                    .map(|e| t[i + 1..i + 1 + e].trim_end_matches(":?").to_string())
            })
            .collect();
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn both_languages_take_the_same_arguments() {
        for m in M::ALL {
            let (en, ja) = (m.template(Lang::En), m.template(Lang::Ja));
            assert!(!en.is_empty() && !ja.is_empty(), "{m:?} is empty");
            assert_eq!(
                placeholders(en),
                placeholders(ja),
                "{m:?}: placeholders differ"
            );
        }
    }

    #[test]
    fn fill_substitutes_once() {
        assert_eq!(fill("{0} and {1}", &[&"a{1}", &"b"]), "a{1} and b");
        assert_eq!(fill("name {0:?}", &[&"x"]), "name \"x\"");
        assert_eq!(fill("{9} {", &[&1]), "{9} {");
    }

    #[test]
    fn locale_names() {
        assert_eq!(from_locale("ja_JP.UTF-8"), Lang::Ja);
        assert_eq!(from_locale("C"), Lang::En);
        assert_eq!(from_locale("en_US.UTF-8"), Lang::En);
    }
}
