# sessiond の画面(日本語)。用語: アクティブなセッション、セッションを取り消す。

## 言語の選択: 各言語は自分の言葉で名乗る。

language-name = 日本語
language-picker-label = 言語
language-picker-submit = 変更

## ヘッダーとページの枠

nav-main-label = メイン
nav-menu = メニュー
nav-active-sessions = アクティブなセッション
nav-password = パスワード
nav-admin-sessions = セッション
nav-admin-users = ユーザー
nav-admin-groups = グループ
nav-admin-audit = 認証監査ログ
nav-admin-alarms = アラーム
nav-open-alarms = 未対応 { $count } 件
nav-log-out = ログアウト

## 日時とデバイス

time-in-utc = { $time } UTC
device-on = { $browser }({ $os })
device-unknown-browser-on = 不明なブラウザ({ $os })
device-unknown = 不明なデバイス
device-kind-desktop = パソコン
device-kind-smartphone = スマートフォン
device-kind-tablet = タブレット
device-kind-bot = ボット
device-kind-other = その他のデバイス
session-spoken = { $device }、{ $address } から、ログイン { $signed-in }、最終アクティブ { $last-active }
session-details = 詳細
session-details-of = ({ $session })
session-details-signed-in = ログイン日時
session-details-last-active = 最終アクティブ
session-details-expires = 有効期限
session-details-idle-expires = この日時までに使われなければ終了
session-details-ip-address = IPアドレス
session-details-last-used-from = (最終使用: { $address })
session-details-user-agent = ユーザーエージェント

## ログインページ

login-title = ログイン
login-field-login = ユーザー名またはメールアドレス
login-field-password = パスワード
login-remember-me = ログイン状態を保持する
login-submit = ログイン
ended-logout = ログアウトしました。
ended-self-revoked = あなたの別のデバイスからログアウトされました。
ended-terminated = 管理者によってログアウトされました。
ended-blocked = アカウントがブロックされたため、ログアウトされました。
ended-password-changed = パスワードが変更されたため、ログアウトされました。
ended-password-reset = 管理者がパスワードをリセットしたため、ログアウトされました。
ended-user-deleted = アカウントが削除されたため、ログアウトされました。
ended-evicted = 許可された数より多くのデバイスでログインしたため、ログアウトされました。
ended-idle-expiry = しばらく操作がなかったため、ログアウトされました。
ended-absolute-expiry = セッションが最大の有効期間に達しました。もう一度ログインしてください。

## エラーとお知らせのページ

page-home-link = トップページへ
page-bad-request-heading = 不正なリクエスト
page-bad-request-message = このフォームを読み取れませんでした。前のページに戻り、再読み込みしてからもう一度お試しください。
page-form-expired-heading = フォームの有効期限切れ
page-form-expired-message = このフォームはこのサイトのページから送信されていないか、古くなっています。前のページに戻り、再読み込みしてからもう一度お試しください。
page-admin-only-heading = 管理者専用
page-admin-only-message = このページは管理者専用です。ここでの操作が必要な場合は管理者に依頼してください。
page-failure-heading = 問題が発生しました
page-unavailable-heading = 一時的に利用できません
page-not-found-heading = ページが見つかりません
page-not-found-message = このアドレスには何もありません。

## JSON API のエラーメッセージ(ページにも表示)

error-unauthorized = 有効なセッションがありません。先にログインしてください。
error-store-unavailable = セッションストアを利用できません。しばらくしてからもう一度お試しください。
error-invalid-credentials = ログイン名またはパスワードが正しくありません。
error-locked = ログインの失敗が多すぎるため、アカウントがロックされています。しばらくしてからもう一度お試しください。
error-blocked = このアカウントはブロックされています。
error-throttled = ログインの失敗が多すぎます。{ $wait }にもう一度お試しください。
error-owner-protected = { $action ->
    [demoted] オーナーのアカウントは管理者から外せません。
    [deleted] オーナーのアカウントは削除できません。
   *[blocked] オーナーのアカウントはブロックできません。
}
error-cannot-block-self = 自分自身はブロックできません。
error-cannot-delete-self = 自分自身は削除できません。
error-username-was-deleted = ユーザー名「{ $name }」は削除されたユーザーが使っていて、監査ログはその名前で記録しています。新しいユーザーに使うには確認してください。
error-wrong-password = 現在のパスワードが正しくありません。
error-same-password = 新しいパスワードは現在のものと違うものにしてください。
error-password-too-short = パスワードは { $count } 文字以上にしてください。
error-password-too-long = パスワードは { $count } 文字以下にしてください。
error-password-too-common = このパスワードはよく使われすぎています。流出したパスワードの一覧にないものを選んでください。
error-password-only-whitespace = パスワードを空白だけにすることはできません。
error-password-contains-username = パスワードにユーザー名を含めることはできません。
error-session-limit = アクティブなセッションがすでに上限の { $count } 件あります。別のデバイスでログアウトするか、セッションを取り消してから、もう一度お試しください。
error-sign-in-held = アクティブなセッションがすでに上限の { $count } 件あります。ここでログインするには、そのうち 1 つを終了してください。
error-pending-sign-in-gone = このログインは期限切れか、すでに完了しています。もう一度ログインしてください。
error-current-session = これは現在使用中のセッションです。終了するにはログアウトしてください。
error-administrators-only = 管理者専用です。
error-cross-origin = 別のオリジンからのリクエストは拒否されました。sessiond のオリジンから送信してください。
error-no-such-endpoint = そのエンドポイントはありません。
error-method-not-allowed = このパスではこのメソッドを使用できません。

## アクティブなセッション

sessions-title = アクティブなセッション
sessions-intro = あなたのアカウントにログインしているデバイスです。心当たりのないものは取り消してください。
sessions-revoke-others = 他のセッションをすべて取り消す
sessions-revoke-others-confirm = 他のセッションをすべて取り消しますか？他のすべてのデバイスがログアウトされ、あなたのアカウントの「ログイン状態を保持する」もすべて解除されます。
sessions-note = セッションを取り消すと、そのデバイスはすぐにログアウトされます。あなたのアカウントの「ログイン状態を保持する」もすべて解除されるため、保持していたデバイスでは再びパスワードが求められます。
sessions-load-error = セッションを読み込めませんでした。
sessions-try-again = 再試行
sessions-none = アクティブなセッションはありません。
sessions-sign-in-again = もう一度ログイン
sessions-list-label = あなたのセッション
sessions-current = 現在のセッション
sessions-ip-address = IPアドレス
sessions-last-used-from = (最終使用: { $address })
sessions-signed-in = ログイン日時
sessions-last-accessed = 最終アクセス
sessions-revoke = 取り消す
sessions-revoke-label = { $session } のセッションを取り消す
sessions-revoke-confirm = { $device }({ $address })のセッションを取り消しますか？そのデバイスはログアウトされます。
sessions-no-others = あなたのアカウントにログインしている他のデバイスはありません。
sessions-refused-current = 現在使用中のセッションは取り消せません。終了するにはログアウトしてください。
sessions-refused-not-found = そのセッションはもうあなたのセッションにありません。すでに終了している可能性があります。
sessions-revoked = { $count ->
    [0] 取り消す他のセッションはありませんでした。
    [one] セッションを取り消しました。そのデバイスはログアウトされました。
   *[other] { $count } 件のセッションを取り消しました。それらのデバイスはログアウトされました。
}
password-title = パスワードの変更
password-required = 管理者があなたのパスワードを設定しました。続けるには、自分で新しいパスワードを決めてください。
password-intro = 他のデバイスはログアウトされます。このデバイスはログインしたままです。
password-given = 伝えられたパスワード
password-current = 現在のパスワード
password-new = 新しいパスワード
password-hint = { $count } 文字以上。よく使われるパスワードや、ユーザー名を含むものは使えません。
password-new-again = 新しいパスワード(確認)
password-submit = パスワードを変更
password-sign-out = ログアウト
password-mismatch = 2 つの新しいパスワードが一致しません。同じ新しいパスワードを 2 回入力してください。
password-changed = { $count ->
    [0] パスワードを変更しました。
   *[other] パスワードを変更しました。他の { $count } 台のデバイスはログアウトされました。
}

## 管理コンソール(共通)

admin-pages-label = ページ
admin-nothing-to-show = 表示する項目はありません
admin-showing = { $total } 件中 { $first }–{ $last } 件を表示
admin-previous = 前へ
admin-next = 次へ
admin-filter = 絞り込む
admin-clear = クリア
admin-filter-user = ユーザー
admin-filter-user-placeholder = ユーザー名、ID、またはメールアドレス
admin-actions = 操作
admin-this-is-you = あなた
admin-no-such-user = 「{ $name }」に一致するユーザーはいません。
admin-notice-terminated = { $user } のセッションを { $count } 件終了しました。
admin-notice-logout-all = { $user } をすべてのデバイスからログアウトさせ、セッションを { $count } 件終了しました。
admin-notice-block = { $user } をブロックし、セッションを { $count } 件終了しました。
admin-notice-unblock = { $user } のブロックを解除しました。再びログインできます。
admin-notice-unlock = { $user } のロックを解除しました。再びログインできます。
admin-notice-delete = { $user } を削除し、セッションを { $count } 件終了しました。
admin-notice-updated = { $user } の変更を保存しました。
admin-notice-acknowledged = { $user } に関するアラームを確認済みにしました。
admin-problem-not-found = 対象はもう存在しません。すでに終了したか、処理済みの可能性があります。
admin-problem-owner-protected = オーナーのアカウントは、ブロック、管理者からの除外、削除のいずれもできません。
admin-problem-cannot-block-self = 自分自身はブロックできません。
admin-problem-cannot-delete-self = 自分自身は削除できません。
admin-problem-current-session = それはあなた自身の現在のセッションです。終了するにはログアウトしてください。
admin-problem-other = その操作は実行できませんでした。

## 管理: セッション

admin-sessions-title = セッション
admin-sessions-intro = すべてのユーザーのアクティブなセッション(最近アクティブな順)。
admin-sessions-filter-user-placeholder = ユーザー名の先頭、ID、またはメールアドレス
admin-sessions-filter-ip = IPアドレス
admin-sessions-filter-ip-placeholder = 203.0.113.7、10.1.、10.0.0.0/8 など
admin-sessions-bad-ip-filter = IPアドレスの条件には、アドレス(203.0.113.7)、その先頭部分(10.1.)、またはネットワーク(10.0.0.0/8、2001:db8::/32)を指定してください。「{ $text }」は使えません。
admin-sessions-caption = アクティブなセッション
admin-sessions-user = ユーザー
admin-sessions-ip-address = IPアドレス
admin-sessions-user-agent = ユーザーエージェント
admin-sessions-created = 作成日時
admin-sessions-last-active = 最終アクティブ
admin-sessions-expires = 有効期限
admin-sessions-last-address = 最終:
admin-sessions-idle = 無操作時:
admin-sessions-yours = 現在のセッションです。終了するにはログアウトしてください。
admin-sessions-remember-me = ログイン保持
admin-sessions-terminate = 終了
admin-sessions-terminate-label = { $user } のセッション({ $session })を終了
admin-sessions-terminate-confirm = { $user } のこのセッション({ $device }、{ $address }、最終アクティブ { $last-active })を終了しますか？そのデバイスはすぐにログアウトされ、{ $user } の「ログイン状態を保持する」もすべて解除されます。
admin-sessions-none = アクティブなセッションはありません。
admin-sessions-none-filtered = この条件に一致するアクティブなセッションはありません。

## 管理: ユーザー

admin-users-title = ユーザー
admin-users-intro = ディレクトリ内のすべてのユーザーと、そのアクティブなセッション。
admin-users-new = 新規ユーザー
admin-users-search = 検索
admin-users-search-placeholder = ユーザー名、メールアドレス、または名前
admin-users-caption = ユーザー
admin-users-user = ユーザー
admin-users-email = メールアドレス
admin-users-active-sessions = アクティブなセッション
admin-users-last-activity = 最終アクティビティ
admin-users-state = 状態
admin-users-owner = オーナー
admin-users-admin = 管理者
admin-users-bot = ボット
admin-users-blocked = ブロック中
admin-users-locked-until = ロック中、解除予定:
admin-users-active = 有効
admin-users-password-change-due = パスワード変更待ち
admin-users-actions-label = { $user } の操作
admin-users-edit = 編集
admin-users-reset-password = パスワードをリセット
admin-users-reset-password-confirm = { $user } のパスワードをリセットしますか？新しいパスワードが生成されて一度だけ表示されます。{ $user } のすべてのセッションと「ログイン状態を保持する」は終了し、次回のログイン時に新しいパスワードを決める必要があります。
admin-users-logout-all = すべてのデバイスからログアウト
admin-users-logout-all-confirm = { $user } をすべてのデバイスからログアウトさせますか？{ $user } のすべてのセッションと「ログイン状態を保持する」がすぐに終了します。
admin-users-logout-all-yours = これはあなた自身のアカウントです。このブラウザーもログアウトされます。
admin-users-block = ブロック
admin-users-block-confirm = { $user } をブロックしますか？ログインできなくなり、すべてのセッションがすぐに終了します。
admin-users-unblock = ブロック解除
admin-users-unlock = ロック解除
admin-users-delete = 削除
admin-users-delete-confirm = { $user } を削除しますか？アカウントとすべてのセッションは完全に終了します。監査ログにはユーザー名 { $user } でイベントが残ります。
admin-users-none = ユーザーはいません。
admin-users-none-found = この検索に一致するユーザーはいません。

## 管理: 認証監査ログ

admin-audit-title = 認証監査ログ
admin-audit-intro = ログイン、ログアウト、ロック、取り消しの記録(新しい順)。
admin-audit-filter-kind = イベント
admin-audit-all-events = すべてのイベント
admin-audit-caption = 監査イベント
admin-audit-when = 日時
admin-audit-event = イベント
admin-audit-who = 実行者
admin-audit-whose = 対象
admin-audit-how-many = 件数
admin-audit-from-where = 接続元
admin-audit-details = 詳細
admin-audit-none = イベントはありません。
admin-audit-none-filtered = この条件に一致するイベントはありません。
audit-kind-login-success = ログイン成功
audit-kind-login-failure = ログイン失敗
audit-kind-login-throttled = ログインの制限
audit-kind-lockout = ロック
audit-kind-logout = ログアウト
audit-kind-revocation-requested = 取り消し要求
audit-kind-session-revoked = セッション取り消し
audit-kind-session-evicted = セッション追い出し
audit-kind-user-created = ユーザー作成
audit-kind-user-blocked = ユーザーのブロック
audit-kind-user-unblocked = ユーザーのブロック解除
audit-kind-user-unlocked = ユーザーのロック解除
audit-kind-alarm-raised = アラーム発生
audit-kind-alarm-acknowledged = アラーム確認
audit-kind-token-created = トークン作成
audit-kind-token-revoked = トークン取り消し
audit-kind-group-created = グループ作成
audit-kind-group-member-added = グループメンバー追加
audit-kind-group-member-removed = グループメンバーの削除
audit-kind-group-shared = グループ共有
audit-kind-group-unshared = グループ共有の終了
audit-kind-group-sessions-revoked = グループのセッション取り消し
audit-kind-remember-me-reuse = ログイン保持トークンの再使用
audit-kind-password-changed = パスワード変更
audit-kind-password-reset = パスワードのリセット
audit-kind-user-updated = ユーザーの編集
audit-kind-user-deleted = ユーザーの削除
audit-kind-session-expired = セッションの期限切れ

## 管理: アラーム

admin-alarms-title = アラーム
admin-alarms-intro = アクティブなセッションが { $threshold } 個以上の IP アドレスから来ているユーザー。
admin-alarms-show-open = 未対応のアラームを表示
admin-alarms-show-all = 確認済みも表示
admin-alarms-none = アラームはまだありません。
admin-alarms-none-open = 未対応のアラームはありません。
admin-alarms-spread = { $count } 個のアドレスからのセッション
admin-alarms-no-sessions-left = { $user } にはアクティブなセッションが残っていません。
admin-alarms-first-seen = 初回検知
admin-alarms-last-seen = 最終検知
admin-alarms-acknowledged = 確認済み
admin-alarms-acknowledged-by = 確認者: { $user }
admin-alarms-acknowledge = 確認済みにする
admin-alarms-acknowledge-label = { $user } に関するアラームを確認済みにする
user-form-new-title = 新規ユーザー
user-form-edit-title = { $user } を編集
user-form-save-confirm = { $user } の変更を保存しますか？
user-form-create-confirm = このユーザーを作成しますか？初回ログイン時に新しいパスワードを決める必要があります。
user-form-username = ユーザー名
user-form-username-hint = 英小文字、数字、「.」「_」「-」が使えます。
user-form-reuse-username = 削除されたユーザーのこのユーザー名を新しいユーザーに使う
user-form-email = メールアドレス
user-form-name = 名前
user-form-owner-is-admin = オーナーは常に管理者です。
user-form-admin = 管理者
user-form-first-password = 初期パスワード
user-form-first-password-hint = 空欄にすると自動で生成され、一度だけ表示されます。ユーザーは初回ログイン時に変更する必要があります。
user-form-save = 保存
user-form-create = ユーザーを作成
user-form-cancel = キャンセル
user-password-shown-once = { $user } のパスワード(この一度だけ表示されます):
user-password-back = ユーザー一覧に戻る
user-password-created = { $user } を作成しました
user-password-created-detail = 初回ログイン時に新しいパスワードを決める必要があります。
user-password-reset = { $user } のパスワードをリセットしました
user-password-reset-detail = { $count } 件のセッションが終了しました。次回のログイン時に新しいパスワードを決める必要があります。
login-limit-title = セッションが多すぎます
login-limit-heading = ログインしているデバイスが多すぎます
login-limit-intro = アクティブなセッションがすでに上限の { $count } 件あります。ここで続けるには、そのうち 1 つをログアウトさせてください。この選択は 5 分間有効です。
login-limit-last-active = 最終アクティブ
login-limit-sign-out = ログアウトさせて続ける
login-limit-sign-out-label = { $address } の { $device }(最終アクティブ { $last-active })をログアウトさせて続ける
login-limit-cancel = キャンセル
groups-title = グループ
groups-intro = グループのツリーです。各グループのメンバー(直接のメンバーと、サブグループ・親グループ・共有を通じたメンバー)、共有先のグループ、それらのアクティブなセッションを表示します。
groups-create = グループを作成
groups-path = フルパス
groups-name = 表示名
groups-optional = (任意)
groups-parents = 存在しない親グループも作成する
groups-create-submit = グループを作成
groups-none = グループはまだありません。
groups-tree-label = グループのツリー
groups-active-sessions = アクティブなセッション { $count } 件
groups-revoke = セッションを取り消す…
groups-revoke-label = { $group } のセッションを取り消す
groups-members = メンバー
groups-none-member = なし
groups-remove-member-label = { $user } を { $group } から外す
groups-remove-member-title = { $user } を外す
groups-inherited = 継承されたメンバー
groups-shared-with = 共有先
groups-no-group = なし
groups-unshare-label = { $group } の { $other } との共有をやめる
groups-unshare-title = 共有をやめる
groups-add-member-label = { $group } に追加するユーザー
groups-add-member-placeholder = ユーザー名、ID、またはメールアドレス
groups-add-member = メンバーを追加
groups-share-label = { $group } の共有先のグループ
groups-share-with = 共有先…
groups-share = 共有
groups-notice-revoked = グループ { $group } の { $users } 人のユーザーのセッションを { $count } 件取り消しました。
groups-notice-created = グループ { $who } を作成しました。
groups-notice-member-added = { $who } を追加しました。
groups-notice-member-removed = { $who } を外しました。
groups-notice-shared = { $who } を共有しました。
groups-notice-unshared = { $who } の共有を終了しました。
group-revoke-title = { $group } のセッションを取り消す
group-revoke-intro = ドライランです。まだ何も終了していません。下で確認すると、これらのユーザーはすべての場所からログアウトされ、「ログイン状態を保持する」も解除されます。
group-revoke-dry-run = ドライラン
group-revoke-found = グループ '{ $group }' に { $count } 人のメンバーが見つかりました(サブグループとグループ共有を含む)。
group-revoke-would = { $users } 人のユーザーのセッション { $count } 件を取り消します。
group-revoke-users-caption = 対象のユーザー
group-revoke-user = 対象のユーザー
group-revoke-sessions = アクティブなセッション
group-revoke-skipped = スキップしたユーザー(アクティブなセッションなし): { $count }
group-revoke-confirm = { $users } 人のユーザーのセッション { $count } 件を取り消す
group-revoke-cancel = キャンセル
group-revocation-title = { $group } のセッションを取り消し中
group-revocation-users-done = 人のユーザーが完了。
group-revocation-of = /
group-revocation-progress = { $total } 中 { $done }
group-revocation-note = このページは自動で更新され、取り消しが終わると結果を表示します。
group-revocation-unknown-heading = その取り消しはありません
group-revocation-unknown-message = この取り消しはここでは不明です。別のセッションで開始されたか、終了から 1 時間以上たっています。残っているセッションはグループのページで確認できます。
group-revocation-interrupted = この取り消しは、実行していたサーバーが停止したため途中で止まりました。残っているセッションはグループのページで確認できます。もう一度取り消してください。
groups-path-placeholder = acme/platform
