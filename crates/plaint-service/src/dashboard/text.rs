//! The dashboard's words in English and Chinese; the policy's own labels come from the policy.

use plaint::{CommandKind, EventKind, StageKind};

/// The language a page is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    Zh,
}

impl Lang {
    /// The language of a locale tag (`zh-CN`, `zh`, `en-GB`); anything not Chinese is English.
    pub(crate) fn of(tag: &str) -> Self {
        match tag.get(..2) {
            Some(t) if t.eq_ignore_ascii_case("zh") => Self::Zh,
            _ => Self::En,
        }
    }

    /// Its tag, for `lang=` and the policy's label maps.
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Zh => "zh",
        }
    }

    /// The other one, for the switch.
    pub(crate) fn other(self) -> Self {
        match self {
            Self::En => Self::Zh,
            Self::Zh => Self::En,
        }
    }

    /// One of the dashboard's own words.
    pub(crate) fn t(self, key: &str) -> &'static str {
        let (en, zh) = WORDS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map_or(("?", "?"), |(_, en, zh)| (*en, *zh));
        match self {
            Self::En => en,
            Self::Zh => zh,
        }
    }

    /// A stage's name.
    pub(crate) fn stage(self, s: StageKind) -> &'static str {
        use StageKind as S;
        let (en, zh) = match s {
            S::Received => ("Received", "已受理"),
            S::Triaged => ("Triaged", "已分级"),
            S::Invalid => ("Invalid", "不成立"),
            S::Explained => ("Explained", "已解释"),
            S::Investigating => ("Investigating", "调查中"),
            S::Proposing => ("Proposing", "拟定方案"),
            S::AwaitingApproval => ("Awaiting approval", "待审批"),
            S::AwaitingAgreement => ("Awaiting agreement", "待客户同意"),
            S::Executing => ("Executing", "执行中"),
            S::Executed => ("Executed", "已执行"),
            S::AwaitingConfirmation => ("Awaiting confirmation", "待客户确认"),
            S::Confirmed => ("Confirmed", "已确认"),
            S::FollowedUp => ("Followed up", "已回访"),
            S::Closed => ("Closed", "已结案"),
            S::Withdrawn => ("Withdrawn", "已撤诉"),
            S::Merged => ("Merged", "已合并"),
            S::Consultation => ("Consultation", "咨询"),
        };
        self.pick(en, zh)
    }

    /// A command's name, as its form's button says it.
    pub(crate) fn command(self, k: CommandKind) -> &'static str {
        use CommandKind as C;
        let (en, zh) = match k {
            C::Receive => ("Receive", "受理"),
            C::Acknowledge => ("Acknowledge", "确认收到"),
            C::Triage => ("Triage", "分级定性"),
            C::Explain => ("Explain", "解释说明"),
            C::AcceptExplanation => ("Accept the explanation", "接受解释"),
            C::RejectExplanation => ("Reject the explanation", "不接受解释"),
            C::Route => ("Route", "责任分派"),
            C::Reassign => ("Reassign", "改派"),
            C::RecordFindings => ("Record findings", "记录调查结果"),
            C::Propose => ("Propose a remedy", "提出处理方案"),
            C::Approve => ("Approve", "批准"),
            C::DeclineApproval => ("Decline approval", "驳回方案"),
            C::AcceptProposal => ("Accept the proposal", "接受方案"),
            C::RejectProposal => ("Reject the proposal", "不接受方案"),
            C::RecordExecution => ("Record execution", "记录执行"),
            C::GiveFeedback => ("Give feedback", "反馈结果"),
            C::ConfirmSatisfaction => ("Confirm satisfaction", "确认满意度"),
            C::FollowUp => ("Follow up", "回访"),
            C::Close => ("Close", "结案"),
            C::ResolveOnTheSpot => ("Resolve on the spot", "当场解决"),
            C::Withdraw => ("Withdraw", "撤诉"),
            C::Merge => ("Merge into another", "合并"),
            C::ChangeTier => ("Change tier", "调整等级"),
            C::AddEvidence => ("Add evidence", "补充证据"),
            C::ReportProgress => ("Report progress", "通报进展"),
            C::AgreeDeadline => ("Agree a deadline", "约定期限"),
            C::Tick => ("Tick", "计时"),
            C::RecordAction => ("Record an action", "记录处理动作"),
            C::Consult => ("Consult", "咨询"),
            C::ConvertToComplaint => ("Convert to a complaint", "转为投诉"),
            C::AdjustPoints => ("Adjust points", "调整扣分"),
            C::ErasePersonalData => ("Erase personal data", "删除个人信息"),
            C::RedactText => ("Redact a staff text", "遮盖员工文字"),
            _ => return k.name(),
        };
        self.pick(en, zh)
    }

    /// An event's name in a timeline.
    pub(crate) fn event(self, k: EventKind) -> &'static str {
        use EventKind as E;
        let (en, zh) = match k {
            E::Received => ("Received", "受理"),
            E::Acknowledged => ("Acknowledged", "已确认收到"),
            E::Triaged => ("Triaged", "分级定性"),
            E::Explained => ("Explained", "已解释"),
            E::ExplanationAccepted => ("Explanation accepted", "客户接受解释"),
            E::ExplanationRejected => ("Explanation rejected", "客户不接受解释"),
            E::Routed => ("Routed", "责任分派"),
            E::Reassigned => ("Reassigned", "改派"),
            E::FindingsRecorded => ("Findings recorded", "调查结果"),
            E::RemedyProposed => ("Remedy proposed", "提出方案"),
            E::ApprovalGranted => ("Approved", "已批准"),
            E::ApprovalDeclined => ("Approval declined", "方案被驳回"),
            E::ProposalAccepted => ("Proposal accepted", "客户接受方案"),
            E::ProposalRejected => ("Proposal rejected", "客户不接受方案"),
            E::ExecutionRecorded => ("Execution recorded", "执行记录"),
            E::FeedbackGiven => ("Feedback given", "已反馈"),
            E::SatisfactionRecorded => ("Satisfaction recorded", "满意度"),
            E::FollowedUp => ("Followed up", "已回访"),
            E::Reopened => ("Reopened", "重新处理"),
            E::ResolvedOnTheSpot => ("Resolved on the spot", "当场解决"),
            E::Closed => ("Closed", "结案"),
            E::Withdrawn => ("Withdrawn", "撤诉"),
            E::Merged => ("Merged", "合并"),
            E::TierChanged => ("Tier changed", "等级调整"),
            E::EvidenceAdded => ("Evidence added", "补充证据"),
            E::ProgressReported => ("Progress reported", "通报进展"),
            E::ClockStarted => ("Clock started", "计时开始"),
            E::ClockPaused => ("Clock paused", "计时暂停"),
            E::ClockResumed => ("Clock resumed", "计时恢复"),
            E::ClockReprojected => ("Deadline recomputed", "期限重算"),
            E::DeadlineAgreed => ("Deadline agreed", "约定期限"),
            E::ClockStopped => ("Clock stopped", "计时结束"),
            E::ClockWarned => ("Deadline warning", "临期预警"),
            E::ClockBreached => ("Deadline breached", "已超时"),
            E::RungReached => ("Escalated", "升级"),
            E::OnDutyAlerted => ("On-duty alerted", "通知值班"),
            E::AlertedAtOnce => ("Alerted at once", "立即告警"),
            E::ActionRecorded => ("Action recorded", "处理动作"),
            E::Consulted => ("Consulted", "咨询答复"),
            E::ConvertedToComplaint => ("Converted to a complaint", "转为投诉"),
            E::PointsAdjusted => ("Points adjusted", "扣分调整"),
            E::PersonalDataErased => ("Personal data erased", "个人信息已删除"),
            E::TextRedacted => ("Text redacted", "文字已遮盖"),
            _ => return k.name(),
        };
        self.pick(en, zh)
    }

    fn pick(self, en: &'static str, zh: &'static str) -> &'static str {
        match self {
            Self::En => en,
            Self::Zh => zh,
        }
    }
}

/// (key, English, Chinese).
const WORDS: &[(&str, &str, &str)] = &[
    ("title", "Complaints", "投诉处理"),
    ("queue", "Work queue", "工作队列"),
    ("mine", "My complaints", "我的投诉"),
    ("ledger", "Ledger", "投诉台账"),
    ("month", "Month", "月度分析"),
    ("sign_in", "Sign in (development)", "登录（开发用）"),
    ("signed_in_as", "Signed in as", "当前用户"),
    ("skip", "Skip to content", "跳到正文"),
    ("lang_switch", "中文", "English"),
    ("filters", "Filters", "筛选"),
    ("stage", "Stage", "阶段"),
    ("tier", "Tier", "等级"),
    ("category", "Category", "类别"),
    ("department", "Department", "部门"),
    ("breached", "Breached", "已超时"),
    ("any", "Any", "全部"),
    ("all_departments", "All departments", "全部部门"),
    (
        "my_department",
        "Mine, and new to pick up",
        "本部门及待分派",
    ),
    ("only_breached", "Only breached", "仅超时"),
    ("apply", "Apply", "应用"),
    ("id", "Complaint", "投诉单号"),
    ("clock", "Clock", "时限"),
    ("due", "Due", "到期"),
    ("left", "Time left", "剩余"),
    ("overdue", "overdue", "已超"),
    ("none", "—", "—"),
    ("open_count", "open complaint(s)", "件未结投诉"),
    ("empty", "Nothing here.", "暂无内容。"),
    ("complainant", "Complainant", "投诉人"),
    ("contacts", "Contacts", "联系方式"),
    ("received_at", "Received", "受理时间"),
    ("description", "Description", "投诉内容"),
    ("clocks", "Clocks", "时限"),
    ("started", "Started", "开始"),
    ("warning", "Warning", "预警"),
    ("deadline", "Deadline", "期限"),
    ("state", "State", "状态"),
    ("running", "Running", "计时中"),
    ("paused", "Paused", "已暂停"),
    ("stopped", "Stopped", "已结束"),
    ("met", "Met", "按时完成"),
    ("timeline", "Timeline", "处理记录"),
    ("when", "When", "时间"),
    ("who", "Who", "操作人"),
    ("what", "What", "事项"),
    ("commands", "What you can do now", "可执行的操作"),
    (
        "no_commands",
        "Nothing you can do here now.",
        "当前没有可执行的操作。",
    ),
    ("refused", "Refused", "操作被拒绝"),
    ("done", "Done", "已完成"),
    ("required", "required", "必填"),
    ("optional", "optional", "选填"),
    ("text", "Text", "内容"),
    ("reason", "Reason", "原因"),
    ("note", "Note", "备注"),
    ("comment", "Comment", "意见"),
    ("summary", "Summary", "摘要"),
    ("root_cause", "Root cause", "根本原因"),
    ("remedy", "Remedy", "处理方式"),
    ("details", "What exactly", "具体内容"),
    ("amount", "Amount", "金额"),
    ("validity", "Validity", "是否成立"),
    ("valid", "Valid", "成立"),
    (
        "not_responsible",
        "Invalid: not responsible",
        "不成立：非我方责任",
    ),
    (
        "misunderstanding",
        "Invalid: misunderstanding",
        "不成立：误解",
    ),
    (
        "not_a_complaint",
        "Invalid: not a complaint",
        "不成立：非投诉",
    ),
    ("by_rules", "By the routing rules", "按分派规则"),
    ("unit", "Unit at fault", "责任单位"),
    ("action", "Action", "动作"),
    ("reference", "Reference", "凭证号"),
    ("finished", "Finished", "已完成"),
    ("satisfied", "Satisfied", "满意"),
    ("score", "Score (1–5)", "评分（1–5）"),
    ("into", "Into complaint", "并入投诉"),
    ("evidence_kind", "Kind", "类型"),
    ("points", "Points", "分值"),
    ("version", "Event number", "事件序号"),
    (
        "field",
        "Text field (note, reason, summary…)",
        "文字字段（note、reason、summary…）",
    ),
    ("policy_default", "Policy default", "按政策默认"),
    ("in_ledger", "complaint(s) in the ledger", "件已入台账"),
    ("report_for", "Analysis for", "分析月份"),
    ("show", "Show", "显示"),
    ("previous", "Previous month", "上个月"),
    ("next", "Next month", "下个月"),
    ("total", "Complaints", "投诉总数"),
    ("on_time", "Acknowledged on time", "按时确认"),
    ("actor_id", "Actor id", "用户编号"),
    ("kind", "Kind", "身份"),
    ("staff", "Staff", "员工"),
    ("customer", "Complainant", "投诉人"),
    ("roles", "Roles (comma-separated)", "角色（逗号分隔）"),
    ("live", "Live updates on", "实时更新中"),
    ("not_found", "Not found", "未找到"),
    ("staff_only", "For staff only.", "仅限员工。"),
];
