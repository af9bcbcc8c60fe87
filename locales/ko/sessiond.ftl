# sessiond 화면(한국어). 용어: 활성 세션, 세션 취소.

## 언어 선택: 각 언어는 자기 말로 이름을 밝힌다.

language-name = 한국어
language-picker-label = 언어
language-picker-submit = 변경

## 머리글과 페이지 틀

nav-main-label = 주 메뉴
nav-menu = 메뉴
nav-active-sessions = 활성 세션
nav-password = 비밀번호
nav-admin-sessions = 세션
nav-admin-users = 사용자
nav-admin-groups = 그룹
nav-admin-audit = 인증 감사 로그
nav-admin-alarms = 알람
nav-open-alarms = 미확인 { $count }건
nav-log-out = 로그아웃

## 날짜·시간과 기기

time-in-utc = { $time } UTC
device-on = { $os }의 { $browser }
device-unknown-browser-on = { $os }의 알 수 없는 브라우저
device-unknown = 알 수 없는 기기
device-kind-desktop = 컴퓨터
device-kind-smartphone = 휴대폰
device-kind-tablet = 태블릿
device-kind-bot = 봇
device-kind-other = 기타 기기
session-spoken = { $device }, { $address }에서 접속, 로그인 { $signed-in }, 마지막 활동 { $last-active }
session-details = 세부 정보
session-details-of = ({ $session })
session-details-signed-in = 로그인 시각
session-details-last-active = 마지막 활동
session-details-expires = 만료
session-details-idle-expires = 이 시각까지 사용하지 않으면 종료
session-details-ip-address = IP 주소
session-details-last-used-from = (마지막 사용: { $address })
session-details-user-agent = 사용자 에이전트

## 로그인 페이지

login-title = 로그인
login-field-login = 사용자 이름 또는 이메일
login-field-password = 비밀번호
login-remember-me = 로그인 상태 유지
login-submit = 로그인
ended-logout = 로그아웃했습니다.
ended-self-revoked = 내 다른 기기에서 로그아웃되었습니다.
ended-terminated = 관리자가 로그아웃시켰습니다.
ended-blocked = 계정이 차단되어 로그아웃되었습니다.
ended-password-changed = 비밀번호가 변경되어 로그아웃되었습니다.
ended-password-reset = 관리자가 비밀번호를 재설정하여 로그아웃되었습니다.
ended-user-deleted = 계정이 삭제되어 로그아웃되었습니다.
ended-evicted = 허용된 수보다 많은 기기에서 로그인하여 로그아웃되었습니다.
ended-idle-expiry = 한동안 활동이 없어 로그아웃되었습니다.
ended-absolute-expiry = 세션이 최대 유효 기간에 도달했습니다. 다시 로그인하세요.

## 오류와 안내 페이지

page-home-link = 첫 페이지로 이동
page-bad-request-heading = 잘못된 요청
page-bad-request-message = 이 양식을 읽을 수 없습니다. 이전 페이지로 돌아가 새로 고친 뒤 다시 시도하세요.
page-form-expired-heading = 양식이 만료됨
page-form-expired-message = 이 양식은 이 사이트의 페이지에서 보낸 것이 아니거나 너무 오래되었습니다. 이전 페이지로 돌아가 새로 고친 뒤 다시 시도하세요.
page-admin-only-heading = 관리자 전용
page-admin-only-message = 이 페이지는 관리자 전용입니다. 여기서 처리할 일이 있으면 관리자에게 요청하세요.
page-failure-heading = 문제가 발생했습니다
page-unavailable-heading = 일시적으로 사용할 수 없음
page-not-found-heading = 페이지를 찾을 수 없음
page-not-found-message = 이 주소에는 아무것도 없습니다.

## JSON API 오류 메시지(페이지에도 표시)

error-unauthorized = 유효한 세션이 없습니다. 먼저 로그인하세요.
error-store-unavailable = 세션 저장소를 사용할 수 없습니다. 잠시 후 다시 시도하세요.
error-invalid-credentials = 로그인 이름 또는 비밀번호가 올바르지 않습니다.
error-locked = 로그인 실패가 너무 많아 계정이 잠겼습니다. 나중에 다시 시도하세요.
error-blocked = 이 계정은 차단되었습니다.
error-throttled = 로그인 실패가 너무 많습니다. { $wait } 다시 시도하세요.
error-owner-protected = { $action ->
    [demoted] 소유자 계정은 관리자에서 뺄 수 없습니다.
    [deleted] 소유자 계정은 삭제할 수 없습니다.
   *[blocked] 소유자 계정은 차단할 수 없습니다.
}
error-cannot-block-self = 자기 자신은 차단할 수 없습니다.
error-cannot-delete-self = 자기 자신은 삭제할 수 없습니다.
error-username-was-deleted = 사용자 이름 “{ $name }”은(는) 삭제된 사용자가 쓰던 이름이며, 감사 로그에 그 이름으로 남아 있습니다. 새 사용자에게 주려면 확인하세요.
error-wrong-password = 현재 비밀번호가 올바르지 않습니다.
error-same-password = 새 비밀번호는 현재 비밀번호와 달라야 합니다.
error-password-too-short = 비밀번호는 { $count }자 이상이어야 합니다.
error-password-too-long = 비밀번호는 { $count }자 이하여야 합니다.
error-password-too-common = 너무 흔한 비밀번호입니다. 유출된 비밀번호 목록에 없는 것을 고르세요.
error-password-only-whitespace = 비밀번호는 공백만으로 이루어질 수 없습니다.
error-password-contains-username = 비밀번호에 사용자 이름을 넣을 수 없습니다.
error-session-limit = 이미 허용된 최대치인 { $count }개의 활성 세션이 있습니다. 다른 기기에서 로그아웃하거나 세션 하나를 취소한 뒤 다시 시도하세요.
error-sign-in-held = 이미 허용된 최대치인 { $count }개의 활성 세션이 있습니다. 여기서 로그인하려면 그중 하나를 끝내세요.
error-pending-sign-in-gone = 이 로그인은 만료되었거나 이미 완료되었습니다. 다시 로그인하세요.
error-current-session = 지금 사용 중인 세션입니다. 끝내려면 로그아웃하세요.
error-administrators-only = 관리자 전용입니다.
error-cross-origin = 다른 출처의 요청은 거부되었습니다. sessiond 출처에서 보내세요.
error-no-such-endpoint = 그런 엔드포인트는 없습니다.
error-method-not-allowed = 이 경로에서는 이 메서드를 사용할 수 없습니다.

## 활성 세션

sessions-title = 활성 세션
sessions-intro = 내 계정에 로그인된 기기입니다. 모르는 기기가 있으면 세션을 취소하세요.
sessions-revoke-others = 다른 세션 모두 취소
sessions-revoke-others-confirm = 다른 세션을 모두 취소할까요? 다른 모든 기기가 로그아웃되고, 내 계정의 “로그인 상태 유지”도 모두 해제됩니다.
sessions-note = 세션을 취소하면 그 기기는 바로 로그아웃됩니다. 내 계정의 “로그인 상태 유지”도 모두 해제되므로, 로그인 상태를 유지하던 기기에서는 다시 비밀번호를 물어봅니다.
sessions-load-error = 세션을 불러올 수 없습니다.
sessions-try-again = 다시 시도
sessions-none = 활성 세션이 없습니다.
sessions-sign-in-again = 다시 로그인
sessions-list-label = 내 세션
sessions-current = 현재 세션
sessions-ip-address = IP 주소
sessions-last-used-from = (마지막 사용: { $address })
sessions-signed-in = 로그인 시각
sessions-last-accessed = 마지막 접속
sessions-revoke = 세션 취소
sessions-revoke-label = { $session } 세션 취소
sessions-revoke-confirm = { $device }({ $address }) 세션을 취소할까요? 그 기기는 로그아웃됩니다.
sessions-no-others = 내 계정에 로그인된 다른 기기가 없습니다.
sessions-refused-current = 지금 사용 중인 세션은 취소할 수 없습니다. 끝내려면 로그아웃하세요.
sessions-refused-not-found = 그 세션은 더 이상 내 세션 목록에 없습니다. 이미 끝났을 수 있습니다.
sessions-revoked = { $count ->
    [0] 취소할 다른 세션이 없었습니다.
   *[other] 세션 { $count }개를 취소했습니다. 해당 기기는 로그아웃되었습니다.
}
password-title = 비밀번호 변경
password-required = 관리자가 비밀번호를 설정했습니다. 계속하려면 직접 새 비밀번호를 정하세요.
password-intro = 다른 기기는 로그아웃되고, 이 기기는 로그인 상태로 남습니다.
password-given = 전달받은 비밀번호
password-current = 현재 비밀번호
password-new = 새 비밀번호
password-hint = { $count }자 이상. 흔한 비밀번호나 사용자 이름이 들어간 비밀번호는 쓸 수 없습니다.
password-new-again = 새 비밀번호 확인
password-submit = 비밀번호 변경
password-sign-out = 로그아웃
password-mismatch = 새 비밀번호 두 개가 다릅니다. 같은 새 비밀번호를 두 번 입력하세요.
password-changed = { $count ->
    [0] 비밀번호를 변경했습니다.
   *[other] 비밀번호를 변경했습니다. 다른 기기 { $count }대가 로그아웃되었습니다.
}

## 관리 콘솔(공통)

admin-pages-label = 페이지
admin-nothing-to-show = 표시할 항목이 없습니다
admin-showing = 전체 { $total }개 중 { $first }–{ $last }
admin-previous = 이전
admin-next = 다음
admin-filter = 필터 적용
admin-clear = 지우기
admin-filter-user = 사용자
admin-filter-user-placeholder = 사용자 이름, ID 또는 이메일
admin-actions = 작업
admin-this-is-you = 본인
admin-no-such-user = “{ $name }”과(와) 일치하는 사용자가 없습니다.
admin-notice-terminated = { $user }의 세션 { $count }개를 종료했습니다.
admin-notice-logout-all = { $user }을(를) 모든 기기에서 로그아웃시켰습니다. 세션 { $count }개를 종료했습니다.
admin-notice-block = { $user }을(를) 차단했습니다. 세션 { $count }개를 종료했습니다.
admin-notice-unblock = { $user }의 차단을 해제했습니다. 다시 로그인할 수 있습니다.
admin-notice-unlock = { $user }의 잠금을 해제했습니다. 다시 로그인할 수 있습니다.
admin-notice-delete = { $user }을(를) 삭제하고 세션 { $count }개를 종료했습니다.
admin-notice-updated = { $user }의 변경 사항을 저장했습니다.
admin-notice-acknowledged = { $user } 관련 알람을 확인했습니다.
admin-problem-not-found = 대상이 더 이상 없습니다. 이미 끝났거나 처리되었을 수 있습니다.
admin-problem-owner-protected = 소유자 계정은 차단하거나 관리자에서 빼거나 삭제할 수 없습니다.
admin-problem-cannot-block-self = 자기 자신은 차단할 수 없습니다.
admin-problem-cannot-delete-self = 자기 자신은 삭제할 수 없습니다.
admin-problem-current-session = 지금 사용 중인 내 세션입니다. 끝내려면 로그아웃하세요.
admin-problem-other = 그 작업을 할 수 없었습니다.

## 관리: 세션

admin-sessions-title = 세션
admin-sessions-intro = 모든 사용자의 활성 세션입니다. 최근 활동 순으로 표시됩니다.
admin-sessions-filter-user-placeholder = 사용자 이름의 앞부분, ID 또는 이메일
admin-sessions-filter-ip = IP 주소
admin-sessions-filter-ip-placeholder = 203.0.113.7, 10.1. 또는 10.0.0.0/8
admin-sessions-bad-ip-filter = IP 주소 필터에는 주소(203.0.113.7), 주소의 앞부분(10.1.) 또는 네트워크(10.0.0.0/8, 2001:db8::/32)를 입력하세요. “{ $text }”은(는) 사용할 수 없습니다.
admin-sessions-caption = 활성 세션
admin-sessions-user = 사용자
admin-sessions-ip-address = IP 주소
admin-sessions-user-agent = 사용자 에이전트
admin-sessions-created = 생성 시각
admin-sessions-last-active = 마지막 활동
admin-sessions-expires = 만료
admin-sessions-last-address = 마지막:
admin-sessions-idle = 유휴 시:
admin-sessions-yours = 현재 세션입니다. 끝내려면 로그아웃하세요.
admin-sessions-remember-me = 로그인 유지
admin-sessions-terminate = 세션 종료
admin-sessions-terminate-label = { $user }의 세션({ $session }) 종료
admin-sessions-terminate-confirm = { $user }의 이 세션({ $device }, { $address }, 마지막 활동 { $last-active })을 종료할까요? 그 기기는 바로 로그아웃되고, { $user }의 “로그인 상태 유지”도 모두 해제됩니다.
admin-sessions-none = 활성 세션이 없습니다.
admin-sessions-none-filtered = 이 필터와 일치하는 활성 세션이 없습니다.

## 관리: 사용자

admin-users-title = 사용자
admin-users-intro = 디렉터리의 모든 사용자와 그 활성 세션입니다.
admin-users-new = 새 사용자
admin-users-search = 검색
admin-users-search-placeholder = 사용자 이름, 이메일 또는 이름
admin-users-caption = 사용자
admin-users-user = 사용자
admin-users-email = 이메일
admin-users-active-sessions = 활성 세션
admin-users-last-activity = 마지막 활동
admin-users-state = 상태
admin-users-owner = 소유자
admin-users-admin = 관리자
admin-users-bot = 봇
admin-users-blocked = 차단됨
admin-users-locked-until = 잠김, 해제 예정:
admin-users-active = 활성
admin-users-password-change-due = 비밀번호 변경 필요
admin-users-actions-label = { $user } 작업
admin-users-edit = 수정
admin-users-reset-password = 비밀번호 재설정
admin-users-reset-password-confirm = { $user }의 비밀번호를 재설정할까요? 새 비밀번호가 만들어져 한 번만 표시됩니다. { $user }의 모든 세션과 “로그인 상태 유지”가 끝나고, 다음 로그인 때 새 비밀번호를 정해야 합니다.
admin-users-logout-all = 모든 기기에서 로그아웃
admin-users-logout-all-confirm = { $user }을(를) 모든 기기에서 로그아웃시킬까요? { $user }의 모든 세션과 “로그인 상태 유지”가 바로 끝납니다.
admin-users-logout-all-yours = 내 계정입니다. 이 브라우저도 로그아웃됩니다.
admin-users-block = 차단
admin-users-block-confirm = { $user }을(를) 차단할까요? 로그인할 수 없게 되고 모든 세션이 바로 끝납니다.
admin-users-unblock = 차단 해제
admin-users-unlock = 잠금 해제
admin-users-delete = 삭제
admin-users-delete-confirm = { $user }을(를) 삭제할까요? 계정과 모든 세션이 완전히 끝납니다. 감사 로그에는 사용자 이름 { $user }(으)로 이벤트가 남습니다.
admin-users-none = 사용자가 없습니다.
admin-users-none-found = 이 검색과 일치하는 사용자가 없습니다.

## 관리: 인증 감사 로그

admin-audit-title = 인증 감사 로그
admin-audit-intro = 로그인, 로그아웃, 잠금, 취소 기록입니다. 최신 순으로 표시됩니다.
admin-audit-filter-kind = 이벤트
admin-audit-all-events = 모든 이벤트
admin-audit-caption = 감사 이벤트
admin-audit-when = 시각
admin-audit-event = 이벤트
admin-audit-who = 수행자
admin-audit-whose = 대상
admin-audit-how-many = 개수
admin-audit-from-where = 접속 위치
admin-audit-details = 세부 정보
admin-audit-none = 이벤트가 없습니다.
admin-audit-none-filtered = 이 필터와 일치하는 이벤트가 없습니다.
audit-kind-login-success = 로그인 성공
audit-kind-login-failure = 로그인 실패
audit-kind-login-throttled = 로그인 제한
audit-kind-lockout = 계정 잠김
audit-kind-logout = 로그아웃
audit-kind-revocation-requested = 취소 요청
audit-kind-session-revoked = 세션 취소
audit-kind-session-evicted = 세션 밀어냄
audit-kind-user-created = 사용자 생성
audit-kind-user-blocked = 사용자 차단
audit-kind-user-unblocked = 사용자 차단 해제
audit-kind-user-unlocked = 사용자 잠금 해제
audit-kind-alarm-raised = 알람 발생
audit-kind-alarm-acknowledged = 알람 확인
audit-kind-token-created = 토큰 생성
audit-kind-token-revoked = 토큰 취소
audit-kind-group-created = 그룹 생성
audit-kind-group-member-added = 그룹 구성원 추가
audit-kind-group-member-removed = 그룹 구성원 제거
audit-kind-group-shared = 그룹 공유
audit-kind-group-unshared = 그룹 공유 종료
audit-kind-group-sessions-revoked = 그룹 세션 취소
audit-kind-remember-me-reuse = 로그인 유지 토큰 재사용
audit-kind-password-changed = 비밀번호 변경
audit-kind-password-reset = 비밀번호 재설정
audit-kind-user-updated = 사용자 수정
audit-kind-user-deleted = 사용자 삭제
audit-kind-session-expired = 세션 만료

## 관리: 알람

admin-alarms-title = 알람
admin-alarms-intro = 활성 세션이 { $threshold }개 이상의 IP 주소에서 접속한 사용자입니다.
admin-alarms-show-open = 미확인 알람 보기
admin-alarms-show-all = 확인한 알람도 보기
admin-alarms-none = 아직 알람이 없습니다.
admin-alarms-none-open = 미확인 알람이 없습니다.
admin-alarms-spread = { $count }개 주소에서 접속한 세션
admin-alarms-no-sessions-left = { $user }에게 남은 활성 세션이 없습니다.
admin-alarms-first-seen = 처음 감지
admin-alarms-last-seen = 마지막 감지
admin-alarms-acknowledged = 확인함
admin-alarms-acknowledged-by = 확인자: { $user }
admin-alarms-acknowledge = 확인
admin-alarms-acknowledge-label = { $user } 관련 알람 확인
user-form-new-title = 새 사용자
user-form-edit-title = { $user } 수정
user-form-save-confirm = { $user }의 변경 사항을 저장할까요?
user-form-create-confirm = 이 사용자를 만들까요? 처음 로그인할 때 새 비밀번호를 정해야 합니다.
user-form-username = 사용자 이름
user-form-username-hint = 영문 소문자, 숫자, “.”, “_”, “-”를 쓸 수 있습니다.
user-form-reuse-username = 삭제된 사용자의 이 사용자 이름을 새 사용자에게 주기
user-form-email = 이메일
user-form-name = 이름
user-form-owner-is-admin = 소유자는 항상 관리자입니다.
user-form-admin = 관리자
user-form-first-password = 첫 비밀번호
user-form-first-password-hint = 비워 두면 자동으로 만들어지며 한 번만 표시됩니다. 사용자는 처음 로그인할 때 바꿔야 합니다.
user-form-save = 저장
user-form-create = 사용자 만들기
user-form-cancel = 취소
user-password-shown-once = { $user }의 비밀번호(이번 한 번만 표시됩니다):
user-password-back = 사용자 목록으로 돌아가기
user-password-created = { $user }을(를) 만들었습니다
user-password-created-detail = 처음 로그인할 때 새 비밀번호를 정해야 합니다.
user-password-reset = { $user }의 비밀번호를 재설정했습니다
user-password-reset-detail = 세션 { $count }개가 끝났습니다. 다음 로그인 때 새 비밀번호를 정해야 합니다.
login-limit-title = 세션이 너무 많음
login-limit-heading = 너무 많은 기기에서 로그인되어 있습니다
login-limit-intro = 이미 허용된 최대치인 { $count }개의 활성 세션이 있습니다. 여기서 계속하려면 그중 하나를 로그아웃시키세요. 이 선택은 5분 동안 유효합니다.
login-limit-last-active = 마지막 활동
login-limit-sign-out = 로그아웃시키고 계속
login-limit-sign-out-label = { $address }의 { $device }(마지막 활동 { $last-active })를 로그아웃시키고 계속
login-limit-cancel = 취소
groups-title = 그룹
groups-intro = 그룹 트리입니다. 각 그룹의 구성원(직접 구성원과 하위 그룹, 상위 그룹, 공유를 통한 구성원), 공유 대상 그룹, 그리고 그 활성 세션을 보여 줍니다.
groups-create = 그룹 만들기
groups-path = 전체 경로
groups-name = 표시 이름
groups-optional = (선택)
groups-parents = 없는 상위 그룹도 만들기
groups-create-submit = 그룹 만들기
groups-none = 아직 그룹이 없습니다.
groups-tree-label = 그룹 트리
groups-active-sessions = 활성 세션 { $count }개
groups-revoke = 세션 취소…
groups-revoke-label = { $group }의 세션 취소
groups-members = 구성원
groups-none-member = 없음
groups-remove-member-label = { $group }에서 { $user } 제거
groups-remove-member-title = { $user } 제거
groups-inherited = 상속된 구성원
groups-shared-with = 공유 대상
groups-no-group = 없음
groups-unshare-label = { $group }을(를) { $other }과(와) 공유하지 않기
groups-unshare-title = 공유 중지
groups-add-member-label = { $group }에 추가할 사용자
groups-add-member-placeholder = 사용자 이름, ID 또는 이메일
groups-add-member = 구성원 추가
groups-share-label = { $group }을(를) 공유할 그룹
groups-share-with = 공유 대상…
groups-share = 공유
groups-notice-revoked = 그룹 { $group }의 사용자 { $users }명의 세션 { $count }개를 취소했습니다.
groups-notice-created = 그룹 { $who }을(를) 만들었습니다.
groups-notice-member-added = { $who }을(를) 추가했습니다.
groups-notice-member-removed = { $who }을(를) 제거했습니다.
groups-notice-shared = { $who }을(를) 공유했습니다.
groups-notice-unshared = { $who }의 공유를 끝냈습니다.
group-revoke-title = { $group }의 세션 취소
group-revoke-intro = 시험 실행입니다. 아직 아무것도 끝나지 않았습니다. 아래에서 확인하면 이 사용자들은 모든 곳에서 로그아웃되고 “로그인 상태 유지”도 해제됩니다.
group-revoke-dry-run = 시험 실행
group-revoke-found = 그룹 '{ $group }'에서 구성원 { $count }명을 찾았습니다(하위 그룹과 그룹 공유 포함).
group-revoke-would = 사용자 { $users }명의 세션 { $count }개를 취소합니다.
group-revoke-users-caption = 대상 사용자
group-revoke-user = 대상 사용자
group-revoke-sessions = 활성 세션
group-revoke-skipped = 건너뛴 사용자(활성 세션 없음): { $count }
group-revoke-confirm = 사용자 { $users }명의 세션 { $count }개 취소
group-revoke-cancel = 취소
group-revocation-title = { $group }의 세션 취소 중
group-revocation-users-done = 명 완료.
group-revocation-of = /
group-revocation-progress = { $total }명 중 { $done }명
group-revocation-note = 이 페이지는 자동으로 새로 고쳐지며, 취소가 끝나면 결과를 보여 줍니다.
group-revocation-unknown-heading = 그런 취소 작업이 없습니다
group-revocation-unknown-message = 이 취소 작업은 여기서 알 수 없습니다. 다른 세션에서 시작되었거나, 끝난 지 한 시간이 넘었습니다. 남은 세션은 그룹 페이지에서 볼 수 있습니다.
group-revocation-interrupted = 이 취소 작업을 실행하던 서버가 멈춰 도중에 중단되었습니다. 남은 세션은 그룹 페이지에서 볼 수 있으니 다시 취소하세요.
groups-path-placeholder = acme/platform
