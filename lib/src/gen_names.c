/* Names and the event category table of the synthetic city generator. The categories follow
 * the shape of China's digital urban management standard (GB/T 30428.2: 2-digit class +
 * 2-digit subclass, e.g. 01 市容环境 / 02 暴露垃圾); time limits are typical values, not any
 * city's official table. */
#include "gen_names.h"

#include <stdio.h>
#include <string.h>

const gen_category GEN_CATEGORIES[] = {
    {"0101", "市容环境", "私搭乱建", 5, "days", "officer", PLACE_BUILDING, 4},
    {"0102", "市容环境", "暴露垃圾", 4, "hours", "grid_worker", PLACE_STREET, 12},
    {"0103", "市容环境", "积存垃圾渣土", 1, "days", "grid_worker", PLACE_STREET, 6},
    {"0104", "市容环境", "道路不洁", 4, "hours", "grid_worker", PLACE_STREET, 6},
    {"0105", "市容环境", "水域不洁", 2, "days", "grid_worker", PLACE_WATER, 2},
    {"0106", "市容环境", "绿地脏乱", 2, "days", "grid_worker", PLACE_STREET, 2},
    {"0107", "市容环境", "废弃家具设备", 1, "days", "grid_worker", PLACE_BUILDING, 3},
    {"0201", "宣传广告", "非法小广告", 4, "hours", "grid_worker", PLACE_BUILDING, 10},
    {"0202", "宣传广告", "违章张贴悬挂", 1, "days", "officer", PLACE_STREET, 3},
    {"0203", "宣传广告", "占道广告牌", 2, "days", "officer", PLACE_STREET, 2},
    {"0301", "施工管理", "施工扰民", 8, "hours", "officer", PLACE_BUILDING, 2},
    {"0302", "施工管理", "工地扬尘", 8, "hours", "officer", PLACE_BUILDING, 2},
    {"0303", "施工管理", "道路遗撒", 4, "hours", "officer", PLACE_STREET, 2},
    {"0304", "施工管理", "违规掘路", 1, "days", "officer", PLACE_STREET, 1},
    {"0401", "突发事件", "路面塌陷", 2, "hours", "officer", PLACE_STREET, 1},
    {"0402", "突发事件", "自来水管破裂", 2, "hours", "grid_worker", PLACE_STREET, 1},
    {"0403", "突发事件", "下水道堵塞", 4, "hours", "grid_worker", PLACE_STREET, 5},
    {"0404", "突发事件", "井盖缺失", 2, "hours", "grid_worker", PLACE_STREET, 2},
    {"0501", "街面秩序", "无照经营游商", 4, "hours", "officer", PLACE_STREET, 6},
    {"0502", "街面秩序", "店外经营", 4, "hours", "officer", PLACE_STREET, 8},
    {"0503", "街面秩序", "机动车乱停放", 2, "hours", "officer", PLACE_STREET, 6},
    {"0504", "街面秩序", "非机动车乱停放", 4, "hours", "grid_worker", PLACE_STREET, 5},
    {"0505", "街面秩序", "占道废品收购", 1, "days", "officer", PLACE_STREET, 2},
    {"0601", "社会管理", "群租房", 3, "days", "grid_worker", PLACE_BUILDING, 3},
    {"0602", "社会管理", "噪声扰民", 8, "hours", "grid_worker", PLACE_BUILDING, 3},
    {"0603", "社会管理", "消防通道堵塞", 4, "hours", "grid_worker", PLACE_BUILDING, 3},
};
const size_t GEN_NCATEGORIES = sizeof GEN_CATEGORIES / sizeof GEN_CATEGORIES[0];

static const char *const KUICHONG[9] = {"葵涌", "葵新", "葵丰", "三溪", "溪涌",
                                        "土洋", "官湖", "坝光", "高源"};

#define NA 24
#define NB 20
static const char *const HEAD[NA] = {"南", "北", "东", "西", "新", "大", "上", "下",
                                     "坪", "龙", "石", "沙", "鹏", "溪", "田", "岭",
                                     "湾", "坑", "塘", "岗", "金", "银", "福", "盐"};
static const char *const TAIL[NB] = {"涌", "田", "岭", "湾", "坑", "塘", "岗", "头", "尾", "口",
                                     "洲", "埔", "背", "围", "坪", "山", "澳", "角", "排", "仔"};

void gen_office_name(int k, char *out, size_t n)
{
    if (k == 0) {
        snprintf(out, n, "葵涌");
        return;
    }
    int a = k % NA, b = (k / NA + k * 7) % NB;
    snprintf(out, n, "%s%s", HEAD[a], TAIL[b]);
}

void gen_community_names(int k, size_t count, wg_rng *r, char (*out)[32])
{
    if (k == 0 && count == 9) {
        for (size_t i = 0; i < 9; i++) snprintf(out[i], 32, "%s", KUICHONG[i]);
        return;
    }
    unsigned char used[NA * NB] = {0};
    for (size_t i = 0; i < count; i++) {
        size_t pick = (size_t)wg_rng_int(r, 0, NA * NB - 1);
        for (size_t t = 0; t < NA * NB && used[pick]; t++) pick = (pick + 1) % (NA * NB);
        used[pick] = 1;
        snprintf(out[i], 32, "%s%s", HEAD[pick / NB], TAIL[pick % NB]);
    }
}

static const char *const STEMS[] = {
    "葵新", "鹏飞", "金岭", "银湾", "富民", "兴业", "迎宾", "滨海", "福安", "长安", "文化", "工业",
    "环城", "坪西", "东纵", "聚宝", "翠竹", "榕树", "荔园", "凤凰", "丰盛", "白石", "海景", "碧岭",
    "新村", "康乐", "永安", "和平", "建设", "团结", "光明", "青山", "绿水", "花园", "学府", "科技",
    "创业", "振兴", "民富", "安居", "红花", "桂花", "松林", "竹园", "禾坪", "龙岗", "坑背", "岭下",
    "溪东", "溪西", "河滨", "南坑", "北岭", "东湾", "西岸", "金沙", "银滩", "望海", "观澜", "临海",
    "三溪", "土洋", "官湖", "坝光", "高源", "葵丰", "秀山", "晨光", "朝阳", "宝安", "嘉和", "恒通",
};
#define NSTEMS (sizeof STEMS / sizeof STEMS[0])

size_t gen_stem_count(void)
{
    return NSTEMS;
}

const char *gen_road_stem(wg_rng *r, unsigned char *used)
{
    size_t pick = (size_t)wg_rng_int(r, 0, NSTEMS - 1);
    for (size_t t = 0; t < NSTEMS && used[pick]; t++) pick = (pick + 1) % NSTEMS;
    used[pick] = 1;
    return STEMS[pick];
}

static const char *const SURNAMES[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
                                       "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高",
                                       "郑", "梁", "谢", "宋", "唐", "许", "邓", "冯", "韩", "曾"};
static const char *const GIVEN[] = {"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋",
                                    "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞", "平",
                                    "刚", "桂", "英", "华", "玲", "建", "文", "辉", "海", "燕"};

void gen_person_name(wg_rng *r, char *out, size_t n)
{
    size_t ns = sizeof SURNAMES / sizeof *SURNAMES, ng = sizeof GIVEN / sizeof *GIVEN;
    const char *s = SURNAMES[wg_rng_int(r, 0, (int64_t)ns - 1)];
    const char *g1 = GIVEN[wg_rng_int(r, 0, (int64_t)ng - 1)];
    if (wg_rng_unit(r) < 0.6) snprintf(out, n, "%s%s%s", s, g1, GIVEN[wg_rng_int(r, 0, (int64_t)ng - 1)]);
    else snprintf(out, n, "%s%s", s, g1);
}
